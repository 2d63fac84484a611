import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve as resolvePath } from 'node:path';
import { TcbuildError, isErrno } from '../errors.js';
import type { NamedContext } from '../frontend/convert.js';
import { dockerignoreCandidates, parseDockerignore } from '../frontend/dockerignore.js';
import type { ContextSource } from '../graph/vertex.js';
import { unpackArchive } from '../solver/archive.js';

/** The local directories of a build: the context and `--build-context` ones. */
export interface BuildContexts {
  main: ContextSource;
  named: Map<string, NamedContext>;
  /** Where the Dockerfile is when none was given: CONTEXT/Dockerfile (inside a tarball context too). */
  defaultDockerfile: string;
  /** Removes what was unpacked from tarballs. */
  release(): Promise<void>;
}

/**
 * Opens the build context — a directory, or a tarball (plain or compressed) unpacked into a
 * temporary directory under `tmpDir` — with its .dockerignore patterns, and the named contexts
 * (`name=DIR` or `name=docker-image://REF`).
 */
export async function openBuildContexts(opts: {
  context: string;
  dockerfilePath: string | undefined;
  buildContexts: Record<string, string> | undefined;
  tmpDir: string;
}): Promise<BuildContexts> {
  const unpacked: string[] = [];
  const release = () => Promise.all(unpacked.map((dir) => rm(dir, { recursive: true, force: true }))).then(() => undefined);
  try {
    const dir = await contextDirectory(opts.context, opts.tmpDir, unpacked, 'build context');
    const defaultDockerfile = join(dir, 'Dockerfile');
    const ignoreFiles = dockerignoreCandidates(opts.dockerfilePath ?? defaultDockerfile, dir);
    const main: ContextSource = { op: 'context', name: 'context', dir, excludes: await readIgnoreFile(ignoreFiles) };
    const named = new Map<string, NamedContext>();
    for (const [name, value] of Object.entries(opts.buildContexts ?? {})) {
      if (value.startsWith('docker-image://')) {
        named.set(name, { kind: 'image', ref: value.slice('docker-image://'.length) });
        continue;
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
        throw new TcbuildError(`--build-context ${name}=${value}: only directories and docker-image:// references are supported`);
      }
      const namedDir = await contextDirectory(value, opts.tmpDir, unpacked, `build context "${name}"`);
      named.set(name, { kind: 'dir', source: { op: 'context', name: `context:${name}`, dir: namedDir, excludes: await readIgnoreFile(dockerignoreCandidates(undefined, namedDir)) } });
    }
    return { main, named, defaultDockerfile, release };
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
    throw new TcbuildError(`${what} "${path}" is not a directory or a tarball`, { hint: 'give the directory holding your sources, e.g. tcbuild build -t app .' });
  }
  await mkdir(tmpDir, { recursive: true });
  const dir = await mkdtemp(join(tmpDir, 'context-'));
  unpacked.push(dir);
  if (!(await unpackArchive(abs, dir))) throw new TcbuildError(`${what} "${path}" is a file but not a tar archive`);
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
