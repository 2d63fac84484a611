import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { TcbuildError, isErrno } from '../errors.js';
import type { NamedContext } from '../frontend/convert.js';
import { dockerignoreCandidates, parseDockerignore } from '../frontend/dockerignore.js';
import { parseGitUrl } from '../frontend/git-url.js';
import type { ContextSource } from '../graph/vertex.js';
import { unpackArchive } from '../solver/archive.js';
import { checkoutGit, resolveGitSource, type GitContext } from '../solver/git-source.js';

/** The local directories of a build: the context and `--build-context` ones. */
export interface BuildContexts {
  main: ContextSource;
  named: Map<string, NamedContext>;
  /** Where the Dockerfile is when none was given: CONTEXT/Dockerfile (inside a tarball context too). */
  defaultDockerfile: string;
  /** What messages call that Dockerfile when its path means nothing to the user (a git checkout's). */
  defaultDockerfileName: string | undefined;
  /** Removes what was unpacked from tarballs. */
  release(): Promise<void>;
}

/**
 * Opens the build context — a directory, a tarball (plain or compressed) unpacked into a
 * temporary directory under `tmpDir`, or a git URL checked out there — with its .dockerignore
 * patterns (none for git, as in BuildKit), and the named contexts (`name=DIR`, `name=GIT-URL` or
 * `name=docker-image://REF`).
 */
export async function openBuildContexts(opts: {
  context: string;
  dockerfilePath: string | undefined;
  buildContexts: Record<string, string> | undefined;
  tmpDir: string;
  /** For git contexts: credentials, and whether .git stays (BUILDKIT_CONTEXT_KEEP_GIT_DIR). */
  git: GitContext & { keepGitDir: boolean };
}): Promise<BuildContexts> {
  const unpacked: string[] = [];
  const release = () =>
    Promise.all(unpacked.map((dir) => rm(dir, { recursive: true, force: true }))).then(() => undefined);
  const gitContexts = new Set<string>();
  /** `dockerfile`: where a Dockerfile.dockerignore beside it would be; undefined for named contexts. */
  const open = async (
    path: string,
    what: string,
    dockerfile: (dir: string) => string | undefined,
  ): Promise<{ dir: string; excludes: string[] }> => {
    const git = parseGitUrl(path);
    if (git) {
      // Kept when either the URL or the build arg asks, as BuildKit's DetectGitContext reads them.
      const vertex = await resolveGitSource(git, git.keepGitDir === true || opts.git.keepGitDir, opts.git);
      const dir = await temporaryDirectory(opts.tmpDir, unpacked);
      await checkoutGit(vertex, dir, opts.git);
      gitContexts.add(dir);
      return { dir, excludes: [] };
    }
    const dir = await contextDirectory(path, opts.tmpDir, unpacked, what);
    return { dir, excludes: await readIgnoreFile(dockerignoreCandidates(dockerfile(dir), dir)) };
  };
  try {
    const beside = (dir: string) => opts.dockerfilePath ?? join(dir, 'Dockerfile');
    const { dir, excludes } = await open(opts.context, 'build context', beside);
    const defaultDockerfile = join(dir, 'Dockerfile');
    const main: ContextSource = { op: 'context', name: 'context', dir, excludes };
    const named = new Map<string, NamedContext>();
    for (const [name, value] of Object.entries(opts.buildContexts ?? {})) {
      if (value.startsWith('docker-image://')) {
        named.set(name, { kind: 'image', ref: value.slice('docker-image://'.length) });
        continue;
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value) && !parseGitUrl(value)) {
        throw new TcbuildError(
          `--build-context ${name}=${value}: only directories, git URLs and docker-image:// references are supported`,
        );
      }
      const context = await open(value, `build context "${name}"`, () => undefined);
      named.set(name, { kind: 'dir', source: { op: 'context', name: `context:${name}`, ...context } });
    }
    const defaultDockerfileName = gitContexts.has(dir) ? 'Dockerfile' : undefined;
    return { main, named, defaultDockerfile, defaultDockerfileName, release };
  } catch (err) {
    await release();
    throw err;
  }
}

async function contextDirectory(path: string, tmpDir: string, unpacked: string[], what: string): Promise<string> {
  const abs = resolvePath(path);
  const st = await stat(abs).catch(() => undefined);
  if (st?.isDirectory()) return abs;
  if (!st?.isFile()) {
    throw new TcbuildError(`${what} "${path}" is not a directory or a tarball`, {
      hint: 'give the directory holding your sources, e.g. tcbuild build -t app .',
    });
  }
  const dir = await temporaryDirectory(tmpDir, unpacked);
  if (!(await unpackArchive(abs, dir))) throw new TcbuildError(`${what} "${path}" is a file but not a tar archive`);
  return dir;
}

async function temporaryDirectory(tmpDir: string, made: string[]): Promise<string> {
  await mkdir(tmpDir, { recursive: true });
  const dir = await mkdtemp(join(tmpDir, 'context-'));
  made.push(dir);
  return dir;
}

/** The first ignore file that exists, parsed; none: no patterns. */
async function readIgnoreFile(candidates: string[]): Promise<string[]> {
  for (const file of candidates) {
    try {
      return parseDockerignore(await readFile(file, 'utf8'));
    } catch (err) {
      if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw err;
    }
  }
  return [];
}
