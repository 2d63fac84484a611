import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lstat, lutimes, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { AlreadyExistsError, FailedPreconditionError, InvalidInputError, TcbuildError } from '../errors.js';
import { redactGitUrl, type GitUrl } from '../frontend/git-url.js';
import { vertexDigest, type GitVertex } from '../graph/vertex.js';
import { digestHex, type Digest } from '../image/digest.js';
import type { Progress } from '../progress/progress.js';
import type { StepSnapshotter } from './snapshots.js';
import { EMPTY_SESSION, secretValue, type BuildSession } from './run-mounts.js';

const FULL_COMMIT = /^([a-f0-9]{40}|[a-f0-9]{64})$/;
/** Environment variables that point git at another repository than the one it is run in. */
const REPOSITORY_VARIABLES = [
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_CEILING_DIRECTORIES',
  'GIT_DISCOVERY_ACROSS_FILESYSTEM',
  'GIT_PREFIX',
  'GIT_QUARANTINE_PATH',
  'GIT_SHALLOW_FILE',
  'GIT_REPLACE_REF_BASE',
  'GIT_GRAFT_FILE',
  'GIT_INTERNAL_SUPER_PREFIX',
];
/**
 * The fetched repository is hostile: no hooks, no fsmonitor command, no transport that runs a
 * command (ext::) or reads the host's files on the repository's say (file:// submodules).
 */
const HARDENING = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'protocol.ext.allow=never',
  '-c',
  'protocol.file.allow=user',
  '-c',
  'advice.detachedHead=false',
  '-c',
  'init.defaultBranch=main',
];

/** What the git source needs to know of one build: where it may write, and the session's credentials. */
export interface GitContext {
  /** Temporary checkouts go below `root/tmp`. */
  root: string;
  session?: BuildSession | undefined;
  /** Told of each fetch. */
  progress?: Progress;
}

/**
 * Resolves a git URL's ref to a commit with `git ls-remote`, before anything is solved (as
 * BuildKit resolves image metadata): the vertex names the commit, so the cache hits while the
 * ref stays where it is and misses once it moves.
 */
export async function resolveGitSource(url: GitUrl, keepGitDir: boolean, ctx: GitContext): Promise<GitVertex> {
  const shown = describe(url.remote, url.ref);
  const resolved = FULL_COMMIT.test(url.ref) ? { commit: url.ref, ref: url.ref } : await lsRemote(url, ctx);
  if (url.checksum !== undefined && !resolved.commit.startsWith(url.checksum)) {
    throw new InvalidInputError(`${shown}: expected commit ${url.checksum}, but it is ${resolved.commit}`, {
      hint: 'the ref moved since the checksum was taken: update the checksum, or pin the ref to the commit',
    });
  }
  return {
    op: 'git',
    remote: url.remote,
    ref: resolved.ref,
    commit: resolved.commit,
    subdir: url.subdir,
    keepGitDir,
    submodules: url.submodules,
    mtime: url.mtime,
  };
}

/** A git vertex's files: one committed snapshot per commit (and subdir, .git, submodules), fetched once. */
export async function solveGit(
  v: GitVertex,
  snapshotter: Pick<StepSnapshotter, 'stat' | 'prepare' | 'upperDir' | 'commit' | 'remove'>,
  ctx: GitContext,
): Promise<{ cacheKey: Digest; snapshot: string }> {
  const cacheKey = vertexDigest(v);
  const snapshot = `git-${digestHex(cacheKey)}`;
  if (await snapshotter.stat(snapshot)) return { cacheKey, snapshot };
  const key = `active-${randomBytes(8).toString('hex')}`;
  ctx.progress?.emit({ kind: 'message', text: `fetching ${describe(v.remote, v.ref)} (${v.commit})` });
  await snapshotter.prepare(key);
  try {
    await checkoutGit(v, snapshotter.upperDir(key), ctx);
    await snapshotter.commit(snapshot, key);
  } catch (err) {
    await snapshotter.remove(key).catch(() => undefined);
    if (!(err instanceof AlreadyExistsError)) throw err; // another build on this store fetched it meanwhile
  }
  return { cacheKey, snapshot };
}

/**
 * Fetches the vertex's commit (shallow where the server allows it) into a temporary repository
 * under `root/tmp` and moves its tree — or the subdir's — into the empty directory `dest`: file
 * modes and symlinks as git checks them out, every time set to the commit's (or left at the
 * checkout's with `mtime=checkout`), `.git` only with keepGitDir and no subdir, as BuildKit.
 */
export async function checkoutGit(v: GitVertex, dest: string, ctx: GitContext): Promise<void> {
  const tmp = join(ctx.root, 'tmp');
  await mkdir(tmp, { recursive: true });
  const work = await mkdtemp(join(tmp, 'git-'));
  const shown = describe(v.remote, v.ref);
  try {
    const git = gitRunner(v.remote, ctx.session ?? EMPTY_SESSION, work);
    await git(['init', '-q', '.'], 'init a repository');
    await fetchCommit(git, v, shown);
    await git(['checkout', '-q', '--detach', v.commit], `check out ${v.commit}`);
    if (v.submodules && (await exists(join(work, '.gitmodules')))) {
      await git(['submodule', 'update', '--init', '--recursive', '--depth=1'], 'fetch its submodules').catch(() =>
        git(['submodule', 'update', '--init', '--recursive'], 'fetch its submodules'),
      );
    }
    const keepGit = v.keepGitDir && v.subdir === '';
    if (keepGit) await tidyKeptRepository(git, v);
    const commitTime = async () => Number(await git(['log', '-1', '--format=%ct', v.commit], 'read the commit time'));
    const time = v.mtime === 'commit' ? await commitTime() : undefined;
    const from = await subdirectory(work, v.subdir, shown);
    for (const name of await readdir(from)) {
      if (name === '.git' && !keepGit) continue;
      await rename(join(from, name), join(dest, name));
    }
    if (time !== undefined) await setTimes(dest, time);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** `git fetch --depth 1 <commit>`; a server that refuses fetching by commit gets asked for the ref, or everything. */
async function fetchCommit(git: GitRunner, v: GitVertex, shown: string): Promise<void> {
  const fetched = 'refs/tcbuild/fetched';
  try {
    await git(['fetch', '-q', '--depth=1', '--no-tags', '--', v.remote, v.commit], 'fetch');
    return;
  } catch (err) {
    if (v.ref === v.commit) {
      const everything = [`+refs/heads/*:${fetched}/heads/*`, `+refs/tags/*:${fetched}/tags/*`];
      await git(['fetch', '-q', '--no-tags', '--', v.remote, ...everything], 'fetch');
    } else {
      const refspec = `+${v.ref}:${fetched}`;
      await git(['fetch', '-q', '--depth=1', '--no-tags', '--', v.remote, refspec], 'fetch').catch(() => {
        throw err;
      });
    }
  }
  await git(['cat-file', '-e', `${v.commit}^{commit}`], 'find the commit').catch(() => {
    if (v.ref === v.commit) throw new InvalidInputError(`commit ${v.commit} not found in ${redactGitUrl(v.remote)}`);
    throw new TcbuildError(`${shown}: the ref no longer points at ${v.commit} (it moved during the build)`, {
      hint: 'build again',
    });
  });
}

/** A kept .git as BuildKit leaves it: HEAD detached at the commit, the ref asked for, origin without credentials. */
async function tidyKeptRepository(git: GitRunner, v: GitVertex): Promise<void> {
  if (v.ref.startsWith('refs/') && !v.ref.startsWith('refs/tcbuild/')) {
    await git(['update-ref', v.ref, v.commit], 'name the ref');
  }
  await git(['remote', 'add', '--', 'origin', redactGitUrl(v.remote)], 'name the remote');
  const temporary = await git(['for-each-ref', '--format=%(refname)', 'refs/tcbuild/'], 'list refs');
  const leftovers = temporary.split('\n').filter(Boolean);
  for (const ref of leftovers) await git(['update-ref', '-d', ref], 'remove a temporary ref');
  await git(['reflog', 'expire', '--all', '--expire=now'], 'expire the reflog');
  await rm(join(git.dir, '.git', 'FETCH_HEAD'), { force: true });
}

/** `subdir` of the checkout, each component a real directory: a repository's symlink never leads out of it. */
async function subdirectory(work: string, subdir: string, shown: string): Promise<string> {
  let dir = work;
  for (const part of subdir === '' ? [] : subdir.split('/')) {
    dir = join(dir, part);
    const st = await lstat(dir).catch(() => undefined);
    if (!st?.isDirectory()) {
      const what = st?.isSymbolicLink() ? 'is a symbolic link' : st ? 'is not a directory' : 'does not exist';
      throw new InvalidInputError(`${shown}: the subdirectory "${subdir}" ${what} in the repository`, {
        hint: 'give a directory of the repository after the ":" of #ref:subdir',
      });
    }
  }
  return dir;
}

/** Sets every entry's times (symlinks' own, directories after their contents) to `seconds`. */
async function setTimes(dir: string, seconds: number): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) await setTimes(path, seconds);
    else await lutimes(path, seconds, seconds);
  }
  await lutimes(dir, seconds, seconds);
}

/** `ls-remote`: the commit a ref names, a branch before a tag (as git checkout prefers); an annotated tag peeled. */
async function lsRemote(url: GitUrl, ctx: GitContext): Promise<{ commit: string; ref: string }> {
  const shown = describe(url.remote, url.ref);
  const git = gitRunner(url.remote, ctx.session ?? EMPTY_SESSION, ctx.root);
  let ref = url.ref;
  if (ref === '') {
    const head = await git(['ls-remote', '--symref', '--', url.remote, 'HEAD'], 'read the default branch');
    ref = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(head)?.[1] ?? '';
    if (ref === '') {
      throw new TcbuildError(`${shown}: the repository has no default branch`, {
        hint: 'name a branch, tag or commit after "#"',
      });
    }
  }
  const out = await git(['ls-remote', '--', url.remote, ref, `${ref}^{}`], 'list its refs');
  const refs = new Map(
    out
      .split('\n')
      .filter(Boolean)
      .map((line) => line.split('\t').reverse() as [string, string]),
  );
  const bare = ref.replace(/^refs\/(heads|tags)\//, '');
  const candidates = [`refs/${ref.replace(/^refs\//, '')}`, `refs/heads/${bare}`, `refs/tags/${bare}`];
  for (const name of candidates) {
    const sha = refs.get(name);
    if (sha === undefined) continue;
    return { commit: refs.get(`${name}^{}`) ?? sha, ref: name };
  }
  throw new InvalidInputError(`ref '${url.ref || ref}' not found in ${redactGitUrl(url.remote)}`, {
    hint: `list what it has with: git ls-remote ${redactGitUrl(url.remote)}`,
  });
}

type GitRunner = ((args: string[], doing: string) => Promise<string>) & { dir: string };

/**
 * Runs the system git as the user (their config, credential helpers and ssh setup apply) in
 * `dir`, hardened against the repository, never prompting: no terminal (a session of its own),
 * GIT_TERMINAL_PROMPT=0, ssh in batch mode. The session's `--ssh default` socket is the agent;
 * its GIT_AUTH_HEADER / GIT_AUTH_TOKEN secrets (optionally `.HOST`) authorize http(s), as in BuildKit.
 */
function gitRunner(remote: string, session: BuildSession, dir: string): GitRunner {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', SSH_ASKPASS_REQUIRE: 'never' };
  env['LC_ALL'] = 'C';
  for (const name of REPOSITORY_VARIABLES) delete env[name];
  if (env['GIT_SSH'] === undefined && env['GIT_SSH_COMMAND'] === undefined) {
    env['GIT_SSH_COMMAND'] = 'ssh -o BatchMode=yes';
  }
  const agent = session.ssh.get('default');
  if (agent !== undefined) env['SSH_AUTH_SOCK'] = agent;
  const header = authHeader(remote, session);
  if (header !== undefined) {
    // Through the environment, not argv: other users can read a process's arguments.
    const index = Number(env['GIT_CONFIG_COUNT'] ?? 0);
    env['GIT_CONFIG_COUNT'] = String(index + 1);
    env[`GIT_CONFIG_KEY_${index}`] = `http.${remote}.extraHeader`;
    env[`GIT_CONFIG_VALUE_${index}`] = `Authorization: ${header}`;
  }
  const shown = redactGitUrl(remote);
  const run = (args: string[], doing: string) =>
    new Promise<string>((resolve, reject) => {
      const child = spawn('git', [...HARDENING, ...args], {
        cwd: dir,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
      child.on('error', (err: NodeJS.ErrnoException) => {
        reject(
          err.code === 'ENOENT'
            ? new FailedPreconditionError('git sources need the git command, which is not installed', {
                hint: 'install git (apt-get install git)',
              })
            : err,
        );
      });
      child.on('close', (code) => {
        if (code === 0) return resolve(Buffer.concat(stdout).toString('utf8'));
        const lines = Buffer.concat(stderr).toString('utf8').replaceAll(remote, shown).trim().split('\n');
        const said = lines
          .slice(-5)
          .map((line) => `\n  ${line}`)
          .join('');
        reject(new TcbuildError(`git could not ${doing} (${shown}):${said || ` exit code ${code}`}`));
      });
    });
  return Object.assign(run, { dir });
}

function authHeader(remote: string, session: BuildSession): string | undefined {
  if (!/^https?:\/\//i.test(remote)) return undefined;
  const host = new URL(remote).host;
  const fail = (message: string): never => {
    throw new InvalidInputError(message);
  };
  const names = [`GIT_AUTH_HEADER.${host}`, `GIT_AUTH_TOKEN.${host}`, 'GIT_AUTH_HEADER', 'GIT_AUTH_TOKEN'];
  for (const id of names) {
    const token = id.startsWith('GIT_AUTH_TOKEN');
    const value = secretValue(session, id, fail)?.toString('utf8').trim();
    if (value === undefined) continue;
    return token ? `basic ${Buffer.from(`x-access-token:${value}`).toString('base64')}` : value;
  }
  return undefined;
}

async function exists(path: string): Promise<boolean> {
  return (await lstat(path).catch(() => undefined)) !== undefined;
}

function describe(remote: string, ref: string): string {
  return `${redactGitUrl(remote)}${ref ? `#${ref}` : ''}`;
}
