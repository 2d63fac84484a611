import { chmod, chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerfileError } from '../frontend/errors.js';
import type { ExecMount, ExecVertex } from '../graph/vertex.js';
import { sha256 } from '../image/digest.js';
import type { Mount } from '../sandbox/index.js';
import { copyDirectoryContents } from './file-ops.js';
import { bindMounts } from './mount-source.js';
import type { StepSources } from './sources.js';
import type { CacheMountLocks } from './cache-mount-locks.js';

/** Where a secret's value comes from (`--secret id=x,src=FILE` or `env=VAR`). */
export type SecretSource = { file: string } | { env: string };

/** What the client lends a build and never stores: secrets and ssh agent sockets, by id. */
export interface BuildSession {
  secrets: ReadonlyMap<string, SecretSource>;
  ssh: ReadonlyMap<string, string>;
}

export const EMPTY_SESSION: BuildSession = { secrets: new Map(), ssh: new Map() };

/** The sandbox mounts and environment of one RUN's --mount flags, and what to undo after it. */
export interface PreparedMounts {
  mounts: Mount[];
  env: string[];
  /** Mount points, for removing the stubs the sandbox made for them from the layer. */
  targets: string[];
  release(): Promise<void>;
}

/**
 * Turns a RUN's mounts into sandbox mounts. Secrets are written to a private directory under
 * `runDir` that is removed after the command; cache directories live under the store root
 * (`cache-mounts/`) from build to build.
 */
export async function prepareRunMounts(
  v: ExecVertex,
  ctx: { root: string; runDir: string; sources: StepSources; session: BuildSession; locks: CacheMountLocks },
): Promise<PreparedMounts> {
  const mounts: Mount[] = [];
  const env: string[] = [];
  const releases: (() => Promise<void> | void)[] = [];
  const fail = (message: string): never => {
    throw new DockerfileError(v.description.file, v.description.line, `${v.description.text}: ${message}`);
  };
  const scratch = async (name: string) => {
    const dir = join(ctx.runDir, 'mounts', name);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return dir;
  };
  try {
    for (const [i, m] of v.mounts.entries()) {
      switch (m.type) {
        case 'bind':
          mounts.push(...(await bindMount(m, ctx.sources, v, () => scratch(`bind-${i}`))));
          break;
        case 'cache': {
          const { dir, release } = await cacheDirectory(m, ctx, v);
          releases.push(release);
          mounts.push({
            type: 'bind',
            source: dir,
            destination: m.target,
            options: ['rbind', m.readonly ? 'ro' : 'rw'],
          });
          break;
        }
        case 'tmpfs':
          mounts.push({
            type: 'tmpfs',
            source: 'tmpfs',
            destination: m.target,
            options: ['nosuid', 'nodev', ...(m.size !== undefined ? [`size=${m.size}`] : [])],
          });
          break;
        case 'secret': {
          const value = secretValue(ctx.session, m.id, fail);
          if (value === undefined) {
            if (m.required) fail(`secret ${m.id}: not found (give it with --secret id=${m.id},src=FILE or env=VAR)`);
            break;
          }
          if (m.env) env.push(`${m.env}=${value.toString('utf8')}`);
          if (m.target === '') break;
          const file = join(await scratch('secrets'), String(i));
          await writeFile(file, value, { mode: 0o600 });
          await chown(file, m.uid, m.gid);
          await chmod(file, m.mode);
          mounts.push({
            type: 'bind',
            source: file,
            destination: m.target,
            options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'],
          });
          break;
        }
        case 'ssh': {
          const socket = ctx.session.ssh.get(m.id);
          if (socket === undefined) {
            if (m.required)
              fail(
                `no SSH agent for id "${m.id}" (give one with --ssh ` +
                  `${m.id === 'default' ? 'default' : `${m.id}=SOCKET`})`,
              );
            break;
          }
          mounts.push({
            type: 'bind',
            source: socket,
            destination: m.target,
            options: ['rbind', 'nosuid', 'nodev', 'noexec'],
          });
          if (!env.some((e) => e.startsWith('SSH_AUTH_SOCK=')) && !v.env.some((e) => e.startsWith('SSH_AUTH_SOCK=')))
            env.push(`SSH_AUTH_SOCK=${m.target}`);
          break;
        }
      }
    }
  } catch (err) {
    await Promise.all(releases.map((r) => r()));
    await rm(join(ctx.runDir, 'mounts'), { recursive: true, force: true });
    throw err;
  }
  return {
    mounts,
    env,
    targets: mounts.map((m) => m.destination),
    release: async () => {
      await Promise.all(releases.map((r) => r()));
      await rm(join(ctx.runDir, 'mounts'), { recursive: true, force: true });
    },
  };
}

/** A secret's bytes (undefined when the session has none of that id); `fail` reports one that cannot be read. */
export function secretValue(session: BuildSession, id: string, fail: (m: string) => never): Buffer | undefined {
  const source = session.secrets.get(id);
  if (source === undefined) return undefined;
  if ('env' in source) {
    const value = process.env[source.env];
    return value === undefined
      ? fail(`secret ${id}: the environment variable ${source.env} is not set`)
      : Buffer.from(value);
  }
  try {
    return readFileSync(source.file);
  } catch (err) {
    return fail(`secret ${id}: cannot read ${source.file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * A bind mount of a path in a context, stage or image, resolved inside that tree: read-only, or
 * writable through a throwaway upper directory.
 */
async function bindMount(
  m: Extract<ExecMount, { type: 'bind' }>,
  sources: StepSources,
  v: ExecVertex,
  scratch: () => Promise<string>,
): Promise<Mount[]> {
  const source = await sources.mountSource(m.source, m.path, v.description);
  const located = source.tree.locate(m.path);
  if (!located)
    throw new DockerfileError(
      v.description.file,
      v.description.line,
      `${v.description.text}: mount source "${m.path}" does not exist`,
    );
  const hidden = located.stat.isDirectory() ? (source.hiddenBelow?.(located.path) ?? []) : [];
  return bindMounts({ located, hidden }, m.target, m.readwrite, await scratch());
}

/**
 * The directory of a cache mount under the store root: created with the mount's mode and owner
 * (and seeded from `from=` when given) the first time; `locked` waits for other users of the id,
 * `private` takes a fresh directory when the id is busy.
 */
async function cacheDirectory(
  m: Extract<ExecMount, { type: 'cache' }>,
  ctx: { root: string; sources: StepSources; locks: CacheMountLocks },
  v: ExecVertex,
): Promise<{ dir: string; release: () => void }> {
  const { slot, release } = await ctx.locks.acquire(m.id, m.sharing);
  const dir = join(
    ctx.root,
    'cache-mounts',
    sha256(m.id).slice('sha256:'.length, 'sha256:'.length + 32) + (slot > 0 ? `-${slot}` : ''),
  );
  try {
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined) {
      if (m.source) await seedCache(m, ctx.sources, v, dir);
      await chown(dir, m.uid, m.gid);
      await chmod(dir, m.mode);
    }
  } catch (err) {
    release();
    throw err;
  }
  return { dir, release };
}

/** A new cache directory starts as a copy of `source` in the `from` tree, resolved inside that tree. */
async function seedCache(
  m: Extract<ExecMount, { type: 'cache' }>,
  sources: StepSources,
  v: ExecVertex,
  dir: string,
): Promise<void> {
  const source = await sources.mountSource(m.source!, m.path, v.description);
  await copyDirectoryContents(source.tree, m.path, dir, (message) => {
    throw new DockerfileError(v.description.file, v.description.line, `${v.description.text}: ${message}`);
  });
}
