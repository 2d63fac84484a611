import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';

import { InvalidInputError, TcbuildError } from '../errors.js';
import { hostPlatform, parsePlatform } from '../image/platform.js';
import type { RegistryOptions } from '../registry/index.js';
import { defaultRoot, openRoot, type StoreOptions } from '../root.js';
import { parseAddHost } from '../sandbox/etc-files.js';
import {
  resolveUser,
  runContainer,
  type ContainerRequest,
  type ContainerResult,
  type Mount,
  type NetworkMode,
  type SandboxLimits,
} from '../sandbox/index.js';
import { LayeredView } from '../snapshot/index.js';
import { unpackImageLayers } from '../solver/unpack-image.js';
import { LazyRegistry, localOrPulledImage } from './resolve-image.js';

/** The container's I/O is the sandbox's own: stdin (-i), a pty (-t), output streams, abort. */
export interface RunOptions
  extends SandboxLimits,
    Pick<ContainerRequest, 'privileged' | 'stdin' | 'tty' | 'consoleSize' | 'stdout' | 'stderr' | 'signal'>,
    StoreOptions {
  /** The command; default: the image's Cmd. */
  args?: string[];
  /** Replaces the image's Entrypoint ([] clears it). */
  entrypoint?: string[];
  /** "K=V" entries added to (and overriding) the image's Env. */
  env?: string[];
  /** Default: the image's WorkingDir, else "/". */
  workdir?: string;
  /** USER syntax (name, uid, name:group, uid:gid); default: the image's User. */
  user?: string;
  /** Default 'private', as RUN steps. */
  network?: NetworkMode;
  hostname?: string;
  /** "HOST:CONTAINER[:ro]" bind mounts, as `docker run -v`. */
  volumes?: string[];
  /** Remove the container's writable snapshot afterwards (default true). */
  rm?: boolean;
  /** Default: this host's; the image must have it (foreign platforms run under emulation). */
  platform?: string;
  pull?: boolean;
  registry?: RegistryOptions;
}

export interface RunResult extends ContainerResult {
  /** The snapshot with the container's changes, when kept (rm: false). */
  snapshot?: string;
}

/** `tcbuild run IMAGE [CMD...]`: runs a command in a container of a stored (or pulled) image. */
export async function run(image: string, opts: RunOptions = {}): Promise<RunResult> {
  if (opts.workdir !== undefined && !opts.workdir.startsWith('/')) {
    throw new InvalidInputError(`the working directory "${opts.workdir}" is invalid, it needs to be an absolute path`);
  }
  const mounts = (opts.volumes ?? []).map(parseVolume);
  const env = (opts.env ?? []).map(parseEnvEntry).filter((entry) => entry !== undefined);
  for (const entry of opts.addHosts ?? []) parseAddHost(entry);
  const store = await openRoot(opts.root ?? defaultRoot());
  const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const found = await localOrPulledImage(
    store.layout,
    new LazyRegistry(opts.registry ?? {}),
    image,
    platform,
    opts.pull ?? false,
  );
  const config = (await found.image.config()).config ?? {};
  const top = await unpackImageLayers(store.snapshotter, store.snapshotter, await found.image.layers(), image);

  const args = [
    ...(opts.entrypoint ?? config.Entrypoint ?? []),
    ...(opts.args?.length ? opts.args : (config.Cmd ?? [])),
  ];
  if (args.length === 0)
    throw new TcbuildError(`${image} has no command to run`, { hint: `give one: tcbuild run ${image} COMMAND` });

  const below = new LayeredView(top ? store.snapshotter.layerDirs(top) : []);
  const text = (path: string) => below.readFile(path)?.toString('utf8') ?? null;
  const user = resolveUser(opts.user ?? config.User ?? '', text('/etc/passwd'), text('/etc/group'));

  const key = `run-${randomBytes(8).toString('hex')}`;
  const rootfs = await store.snapshotter.prepare(key, top);
  const mountpoint = join(store.root, 'run', key);
  await mkdir(mountpoint, { recursive: true });
  try {
    const result = await runContainer({
      rootfs,
      mountpoint,
      args,
      env: mergeEnv(config.Env ?? [], env),
      cwd: opts.workdir ?? (config.WorkingDir || '/'),
      user,
      hostname: opts.hostname ?? key.slice('run-'.length, 'run-'.length + 12),
      network: opts.network ?? 'private',
      ...(opts.privileged ? { privileged: true } : {}),
      mounts,
      ...limitsOf(opts),
      ...(opts.stdin ? { stdin: opts.stdin } : {}),
      ...(opts.tty ? { tty: true } : {}),
      ...(opts.consoleSize ? { consoleSize: opts.consoleSize } : {}),
      ...(opts.stdout ? { stdout: opts.stdout } : {}),
      ...(opts.stderr ? { stderr: opts.stderr } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    return opts.rm === false ? { ...result, snapshot: key } : result;
  } finally {
    await rm(mountpoint, { recursive: true, force: true });
    if (opts.rm !== false) await store.snapshotter.remove(key).catch(() => undefined);
  }
}

function limitsOf(opts: SandboxLimits): SandboxLimits {
  const limits: SandboxLimits = {};
  for (const key of ['memory', 'cpus', 'pidsLimit', 'addHosts', 'ulimits'] as const) {
    if (opts[key] !== undefined) Object.assign(limits, { [key]: opts[key] });
  }
  return limits;
}

/** `-e K=V`, or `-e K` taking K from this environment (left out when it is not set, as docker does). */
function parseEnvEntry(entry: string): string | undefined {
  const name = entry.split('=')[0]!;
  if (name === '' || /\s/.test(name))
    throw new InvalidInputError(`invalid environment variable "${entry}": expected KEY=VALUE or KEY`);
  if (entry.includes('=')) return entry;
  const value = process.env[name];
  return value === undefined ? undefined : `${name}=${value}`;
}

/** The image's Env with `extra` laid over it by name. */
function mergeEnv(base: string[], extra: string[]): string[] {
  const byName = new Map<string, string>();
  for (const entry of [...base, ...extra]) byName.set(entry.split('=')[0]!, entry);
  return [...byName.values()];
}

/** "HOST:CONTAINER[:ro|rw]" → a bind mount. */
export function parseVolume(spec: string): Mount {
  const [host, target, mode, ...rest] = spec.split(':');
  if (
    !host ||
    !target ||
    rest.length ||
    (mode !== undefined && mode !== 'ro' && mode !== 'rw') ||
    !isAbsolute(target)
  ) {
    throw new InvalidInputError(
      `invalid volume "${spec}": expected HOST:CONTAINER[:ro], with an absolute CONTAINER path`,
    );
  }
  if (!host.startsWith('/') && !host.startsWith('.')) {
    throw new InvalidInputError(
      `invalid volume "${spec}": "${host}" would be a named volume, which tcbuild run does not have`,
      {
        hint: `give a host path: -v "$PWD/${host}:${target}"`,
      },
    );
  }
  return { type: 'bind', source: resolve(host), destination: target, options: ['rbind', mode ?? 'rw'] };
}
