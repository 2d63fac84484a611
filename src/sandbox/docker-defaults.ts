// What Docker gives every container by default (moby's oci/defaults.go and
// runc's allowed devices), so RUN steps behave as under `docker build`.

/** Bounding, permitted and effective sets; inheritable and ambient stay empty. CapEff 00000000a80425fb. */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Unreadable in the container: /dev/null over files, an empty read-only tmpfs over directories. */
export const MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const READONLY_PATHS: readonly string[] = [
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/sys',
  '/proc/sysrq-trigger',
];

/**
 * A device cgroup rule: devices of a type and major:minor ('*' for any) may be opened for reading, writing, or made
 * (mknod).
 */
export interface DeviceRule {
  type: 'c' | 'b';
  major: number | '*';
  minor: number | '*';
  access: `${'r' | ''}${'w' | ''}${'m' | ''}`;
}

const usable = (major: number, minor: number | '*'): DeviceRule => ({ type: 'c', major, minor, access: 'rwm' });

/**
 * What a container may do with devices after denying everything (moby's defaults and runc's
 * AllowedDevices): mknod of any node; use of null, zero, full, random, urandom, tty, console,
 * ptmx, the ptys of its devpts and /dev/net/tun. moby's one deny rule, fuse (10:229), is
 * already denied.
 */
export const ALLOWED_DEVICES: readonly DeviceRule[] = [
  { type: 'c', major: '*', minor: '*', access: 'm' },
  { type: 'b', major: '*', minor: '*', access: 'm' },
  usable(1, 3),
  usable(1, 5),
  usable(1, 7),
  usable(1, 8),
  usable(1, 9),
  usable(5, 0),
  usable(5, 1),
  usable(5, 2),
  usable(136, '*'),
  usable(10, 200),
];

/** A fork bomb stops here unless the request says otherwise (Docker has no default; podman's is 2048). */
export const DEFAULT_PIDS_LIMIT = 4096;
