import { readFileSync } from 'node:fs';

import { initialConsoleSize } from './console.js';
import { DEFAULT_CAPABILITIES, MASKED_PATHS, READONLY_PATHS } from './docker-defaults.js';
import type { EtcFiles } from './etc-files.js';
import { loadNative, type NativeSpec } from './native.js';
import { defaultSeccompFilter } from './seccomp/bpf.js';
import type { ContainerRequest, Mount, Ulimit } from './types.js';

// Docker's defaults for a container's /dev, /proc, /sys and friends.
const SYSTEM_MOUNTS: Mount[] = [
  { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
  {
    destination: '/dev',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
  },
  {
    destination: '/dev/pts',
    type: 'devpts',
    source: 'devpts',
    options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
  },
  {
    destination: '/dev/shm',
    type: 'tmpfs',
    source: 'shm',
    options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
  },
  { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
  // Without its own network namespace the addon falls back to a read-only rbind of the host's /sys.
  { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
];

const DEVICES: NativeSpec['linux']['devices'] = [
  ['/dev/null', 1, 3],
  ['/dev/zero', 1, 5],
  ['/dev/full', 1, 7],
  ['/dev/random', 1, 8],
  ['/dev/urandom', 1, 9],
  ['/dev/tty', 5, 0],
].map(([path, major, minor]) => ({
  path: path as string,
  type: 'c',
  major: major as number,
  minor: minor as number,
  fileMode: 0o666,
  uid: 0,
  gid: 0,
}));

const ETC_FILES = ['/etc/hosts', '/etc/resolv.conf', '/etc/hostname'] as const;

/** Paths the sandbox mounts over inside the rootfs (creating them when the image lacks them). */
export const MOUNT_TARGETS: readonly string[] = [...SYSTEM_MOUNTS.map((m) => m.destination), ...ETC_FILES];

const DEFAULT_ULIMITS: Ulimit[] = [{ name: 'nofile', soft: 1024, hard: 1048576 }];

/** How the sandbox's cgroup turned out: its cgroup.procs files, and whether it limits device access. */
export interface CgroupPlacement {
  procs: string[];
  limitsDevices: boolean;
}

/**
 * The addon's spec for a request: the request plus every default a container gets.
 * `networkFd`: the namespace of a 'private' network (PrivateNetwork.fd), which the container joins.
 */
export function buildSpec(
  req: ContainerRequest,
  etc: EtcFiles,
  cgroup: CgroupPlacement,
  networkFd?: number,
): NativeSpec {
  const namespaces: NativeSpec['linux']['namespaces'] = [
    { type: 'mount' },
    { type: 'pid' },
    { type: 'uts' },
    { type: 'ipc' },
    { type: 'cgroup' },
  ];
  if (req.network === 'none') namespaces.push({ type: 'network' });
  if (req.network === 'private') namespaces.push({ type: 'network', fd: networkFd! });
  const capabilities = req.privileged ? ownCapabilities() : capabilitiesFor(cgroup);
  const fromImage = (mounts: Mount[]) => (cgroup.limitsDevices ? mounts : mounts.map(withoutDevices));
  return {
    root: { path: req.mountpoint },
    rootfsMounts: fromImage(req.rootfs),
    mounts: [
      ...(req.privileged ? SYSTEM_MOUNTS.map(writableSys) : SYSTEM_MOUNTS),
      readOnlyBind(etc.hosts, ETC_FILES[0]),
      readOnlyBind(etc.resolvConf, ETC_FILES[1]),
      readOnlyBind(etc.hostname, ETC_FILES[2]),
      ...fromImage(req.mounts ?? []),
    ],
    hostname: req.hostname,
    process: {
      args: req.args,
      env: withHome(req.env, req.user.home ?? '/'),
      cwd: req.cwd,
      user: { uid: req.user.uid, gid: req.user.gid, additionalGids: req.user.additionalGids, umask: 0o022 },
      rlimits: rlimits(req.ulimits ?? []),
      capabilities: { bounding: capabilities, effective: capabilities, permitted: capabilities },
      noNewPrivileges: req.noNewPrivileges ?? false,
      stdinPipe: req.stdin !== undefined && !req.tty,
      terminal: req.tty ?? false,
      ...(req.tty ? { consoleSize: consoleSizeOf(req) } : {}),
    },
    linux: {
      namespaces,
      devices: DEVICES,
      maskedPaths: req.privileged ? [] : [...MASKED_PATHS],
      readonlyPaths: req.privileged ? [] : [...READONLY_PATHS],
      seccompFilter: req.privileged ? null : defaultSeccompFilter(),
      cgroupProcs: cgroup.procs,
    },
  };
}

/** runc's rule: a HOME that is missing or empty becomes the user's home directory. */
function withHome(env: string[], home: string): string[] {
  if (env.some((e) => e.startsWith('HOME=') && e !== 'HOME=')) return env;
  return [...env.filter((e) => !e.startsWith('HOME=')), `HOME=${home}`];
}

/**
 * Where neither a v1 devices cgroup nor the v2 device program limits devices, no device node
 * may be made, and none on the image's (or a mount's) file system opened: CAP_MKNOD goes, and
 * those mounts are nodev. /dev keeps the nodes the sandbox makes.
 */
function capabilitiesFor(cgroup: CgroupPlacement): string[] {
  return cgroup.limitsDevices ? [...DEFAULT_CAPABILITIES] : DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_MKNOD');
}

/** What a privileged container gets: every capability this process holds (as runc, it cannot grant more). */
function ownCapabilities(): string[] {
  const permitted = BigInt(
    `0x${/^CapPrm:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`,
  );
  return loadNative().capabilityNames.filter((_, bit) => ((permitted >> BigInt(bit)) & 1n) === 1n);
}

function writableSys(mount: Mount): Mount {
  return mount.type === 'sysfs' ? { ...mount, options: mount.options.filter((o) => o !== 'ro') } : mount;
}

function withoutDevices(mount: Mount): Mount {
  return { ...mount, options: [...mount.options, 'nodev'] };
}

/** The defaults with the request's ulimits ("nofile", "nproc", ...) laid over them. */
function rlimits(ulimits: readonly Ulimit[]): NativeSpec['process']['rlimits'] {
  const byName = new Map([...DEFAULT_ULIMITS, ...ulimits].map((u) => [u.name.toLowerCase(), u]));
  return [...byName.values()].map((u) => ({ type: `RLIMIT_${u.name.toUpperCase()}`, soft: u.soft, hard: u.hard }));
}

function readOnlyBind(source: string, destination: string): Mount {
  return { type: 'bind', source, destination, options: ['rbind', 'ro'] };
}

function consoleSizeOf(req: ContainerRequest): { height: number; width: number } {
  const size = initialConsoleSize(req);
  return { height: size.rows, width: size.columns };
}
