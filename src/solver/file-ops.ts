import { createReadStream } from 'node:fs';
import { chmod, copyFile, lchown, lutimes, mkdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join, posix } from 'node:path';
import type { Stats } from 'node:fs';
import { DockerfileError } from '../frontend/errors.js';
import { hasGlobMeta, matchPathElement } from '../frontend/glob.js';
import type { CopyVertex, StepDescription } from '../graph/vertex.js';
import type { Digest } from '../image/digest.js';
import { resolveUser } from '../sandbox/index.js';
import { LayeredView } from '../snapshot/index.js';
import type { CopySource } from './solver.js';

interface Owner {
  uid: number;
  gid: number;
}

/** WORKDIR: creates the directory (and parents) as root with mode 0755 unless it exists. */
export async function makeDirectory(upper: string, below: LayeredView, path: string): Promise<void> {
  await ensureDirectory(upper, below, below.resolve(path, { followFinal: true }), { uid: 0, gid: 0 });
}

/** COPY/ADD of local files: writes the copied files into `upper`, the new layer's directory. */
export async function copyFiles(v: CopyVertex, upper: string, below: LayeredView, from: CopySource): Promise<void> {
  const fail = (message: string): never => {
    throw new DockerfileError(v.description.file, v.description.line, message);
  };
  const owner = v.chown !== undefined ? chownOwner(v.chown, below, fail) : undefined;
  const mode = v.chmod !== undefined ? parseChmod(v.chmod, fail) : undefined;

  if (from.kind === 'inline') {
    const destIsDir = v.dest.endsWith('/') || from.files.length > 1 || below.lstat(v.dest)?.isDirectory() === true;
    for (const file of from.files) {
      const target = destIsDir ? posix.join(v.dest, file.name) : v.dest;
      const parent = await ensureDirectory(upper, below, below.resolve(posix.dirname(target), { followFinal: true }), owner ?? { uid: 0, gid: 0 });
      const path = join(upper, parent, posix.basename(target));
      await writeFile(path, file.content);
      await chmod(path, mode ?? 0o644);
      await lchown(path, owner?.uid ?? 0, owner?.gid ?? 0);
    }
    return;
  }

  const matches = v.sources.flatMap((s) => expandSource(from.view, s, v.description));
  const destIsDir = v.dest.endsWith('/') || matches.length > 1 || v.sources.some(hasGlobMeta) || below.lstat(v.dest)?.isDirectory() === true;
  const fromContext = v.source.op === 'context';
  for (const src of matches) {
    const st = from.view.lstat(src)!;
    if (st.isDirectory()) {
      const dir = await ensureDirectory(upper, below, below.resolve(v.dest, { followFinal: true }), owner ?? { uid: 0, gid: 0 });
      await copyTree(from.view, src, join(upper, dir), { owner, mode, fromContext });
      continue;
    }
    const target = destIsDir ? posix.join(v.dest, posix.basename(src)) : v.dest;
    const parent = await ensureDirectory(upper, below, below.resolve(posix.dirname(target), { followFinal: true }), owner ?? { uid: 0, gid: 0 });
    await copyEntry(from.view, src, st, join(upper, parent, posix.basename(target)), { owner, mode, fromContext });
  }
}

interface CopyOptions {
  owner: Owner | undefined;
  mode: number | undefined;
  fromContext: boolean;
}

async function copyTree(view: LayeredView, src: string, targetDir: string, opts: CopyOptions): Promise<void> {
  for (const name of view.readdir(src).sort()) {
    const path = posix.join(src, name);
    const st = view.lstat(path)!;
    const target = join(targetDir, name);
    await copyEntry(view, path, st, target, opts);
    if (st.isDirectory()) await copyTree(view, path, target, opts);
  }
}

async function copyEntry(view: LayeredView, src: string, st: Stats, target: string, opts: CopyOptions): Promise<void> {
  const uid = opts.owner?.uid ?? (opts.fromContext ? 0 : st.uid);
  const gid = opts.owner?.gid ?? (opts.fromContext ? 0 : st.gid);
  if (st.isSymbolicLink()) {
    await symlink(await readlink(view.hostPath(src)!), target);
  } else if (st.isDirectory()) {
    await mkdir(target, { recursive: true });
    await chmod(target, opts.mode ?? st.mode & 0o7777);
  } else if (st.isFile()) {
    await copyFile(view.hostPath(src)!, target);
    await chmod(target, opts.mode ?? st.mode & 0o7777);
  } else {
    return;
  }
  await lchown(target, uid, gid);
  await lutimes(target, st.atime, st.mtime);
}

/**
 * Makes `dir` (a resolved container path) exist in the upper directory: components that exist
 * below are recreated with their metadata (so the merged view is unchanged), new ones get `owner`
 * and 0755. Returns the path relative to the upper directory.
 */
async function ensureDirectory(upper: string, below: LayeredView, dir: string, owner: Owner): Promise<string> {
  let current = '/';
  for (const part of dir.split('/').filter(Boolean)) {
    current = posix.join(current, part);
    const target = join(upper, current);
    const existing = below.lstat(current);
    await mkdir(target).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
    if (existing?.isDirectory()) {
      await chmod(target, existing.mode & 0o7777);
      await lchown(target, existing.uid, existing.gid);
      await lutimes(target, existing.atime, existing.mtime);
    } else {
      await chmod(target, 0o755);
      await lchown(target, owner.uid, owner.gid);
    }
  }
  return current;
}

/** Context-relative source paths, wildcards expanded (Go filepath.Match per element), never above the root. */
function expandSource(view: LayeredView, source: string, at: StepDescription): string[] {
  const clean = posix.normalize(`/${source}`);
  if (!hasGlobMeta(clean)) {
    if (!view.lstat(clean)) {
      throw new DockerfileError(at.file, at.line, `${at.text}: "${source}" not found in the build context`, {
        hint: 'check the path (it is relative to the context directory) and that .dockerignore does not exclude it',
      });
    }
    return [clean];
  }
  let paths = ['/'];
  for (const part of clean.split('/').filter(Boolean)) {
    paths = paths.flatMap((dir) => {
      if (!hasGlobMeta(part)) return view.lstat(posix.join(dir, part)) ? [posix.join(dir, part)] : [];
      if (!view.lstat(dir)?.isDirectory()) return [];
      return view.readdir(dir).filter((name) => matchPathElement(part, name)).sort().map((name) => posix.join(dir, name));
    });
  }
  if (paths.length === 0) {
    throw new DockerfileError(at.file, at.line, `${at.text}: no files in the build context match "${source}"`);
  }
  return paths;
}

/** A digest of everything a COPY reads from the context: names, types, modes and contents. */
export async function contextChecksum(dir: string, sources: string[], at: StepDescription): Promise<Digest> {
  const view = new LayeredView([dir]);
  const hash = createHash('sha256');
  const visit = async (path: string): Promise<void> => {
    const st = view.lstat(path)!;
    hash.update(`${path}\0${st.mode}\0`);
    if (st.isSymbolicLink()) hash.update(await readlink(view.hostPath(path)!));
    else if (st.isFile()) {
      for await (const chunk of createReadStream(view.hostPath(path)!)) hash.update(chunk as Buffer);
    } else if (st.isDirectory()) {
      for (const name of view.readdir(path).sort()) await visit(posix.join(path, name));
    }
    hash.update('\0');
  };
  for (const source of sources) {
    for (const path of expandSource(view, source, at)) await visit(path);
  }
  return `sha256:${hash.digest('hex')}`;
}

function chownOwner(spec: string, below: LayeredView, fail: (m: string) => never): Owner {
  try {
    const text = (path: string) => below.readFile(path)?.toString('utf8') ?? null;
    const { uid, gid } = resolveUser(spec, text('/etc/passwd'), text('/etc/group'));
    return { uid, gid };
  } catch (err) {
    return fail(`--chown=${spec}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

function parseChmod(spec: string, fail: (m: string) => never): number {
  if (!/^[0-7]{3,4}$/.test(spec)) fail(`--chmod=${spec}: expected an octal mode such as 755 or 0644`);
  return parseInt(spec, 8);
}
