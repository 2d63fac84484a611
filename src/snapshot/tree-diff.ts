import type { BigIntStats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import type { Change, ChangeSource } from './changes.js';
import { fsOps } from './native.js';

/**
 * The changes that turn the tree `oldRoot` into `newRoot`, for snapshotters that keep whole
 * copies (containerd's "native"): what overlay would have put in an upper dir. A file counts as
 * changed when its type, metadata, size, mtime (to the nanosecond), link count, link target or
 * xattrs differ, as continuity's double walk decides. A directory all of whose old entries are
 * gone becomes opaque, as `rm -rf dir && mkdir dir` does on overlay, and so does one that
 * replaces a file (overlay marks a directory made over a deleted entry so). Unchanged directories on the
 * way to a change are entries too, as overlay copies them up.
 */
export async function treeChanges(oldRoot: string | undefined, newRoot: string): Promise<ChangeSource> {
  const byDir = new Map<string, Change[]>();
  await diffDir(oldRoot, newRoot, '', byDir);
  return async (relDir) => byDir.get(relDir) ?? [];
}

/** Records the changes under `relDir` in `byDir`; true when there are any. */
async function diffDir(
  oldRoot: string | undefined,
  newRoot: string,
  relDir: string,
  byDir: Map<string, Change[]>,
  replacesFile = false,
): Promise<boolean> {
  const newDir = join(newRoot, relDir);
  const newNames = await readdir(newDir);
  const oldNames = oldRoot === undefined ? [] : await readdirIfDir(join(oldRoot, relDir));
  const newSet = new Set(newNames);
  const opaque = replacesFile || (oldNames.length > 0 && oldNames.every((name) => !newSet.has(name)));
  const changes: Change[] = [];
  if (opaque) {
    changes.push({ name: '', kind: 'opaque', absPath: newDir, stat: await lstat(newDir, { bigint: true }) });
  } else {
    for (const name of oldNames) {
      if (!newSet.has(name))
        changes.push({ name, kind: 'whiteout', absPath: newDir, stat: await lstat(newDir, { bigint: true }) });
    }
  }
  const compareTo = opaque ? undefined : oldRoot;
  for (const name of newNames) {
    const rel = `${relDir}${name}`;
    const absPath = join(newRoot, rel);
    const stat = await lstat(absPath, { bigint: true });
    const old = compareTo === undefined ? undefined : await lstatOrUndefined(join(compareTo, rel));
    const bothDirs = stat.isDirectory() && old?.isDirectory() === true;
    const changedHere = !old || !(await sameEntry(old, join(compareTo!, rel), stat, absPath));
    // A new directory (or one replacing a file) is compared with nothing: all of it is new.
    const below =
      stat.isDirectory() &&
      (await diffDir(bothDirs ? compareTo : undefined, newRoot, `${rel}/`, byDir, old !== undefined && !bothDirs));
    if (changedHere || below) changes.push({ name, kind: 'entry', absPath, stat });
  }
  if (changes.length > 0) byDir.set(relDir, changes);
  return changes.length > 0;
}

async function sameEntry(old: BigIntStats, oldPath: string, stat: BigIntStats, newPath: string): Promise<boolean> {
  const sameType = (old.mode & 0o170000n) === (stat.mode & 0o170000n);
  if (!sameType || old.mode !== stat.mode || old.uid !== stat.uid || old.gid !== stat.gid) return false;
  if (
    !stat.isDirectory() &&
    (old.size !== stat.size || old.mtimeNs !== stat.mtimeNs || old.nlink !== stat.nlink || old.rdev !== stat.rdev)
  )
    return false;
  if (stat.isDirectory() && old.mtimeNs !== stat.mtimeNs) return false;
  if (stat.isSymbolicLink() && (await readlink(oldPath)) !== (await readlink(newPath))) return false;
  return sameXattrs(oldPath, newPath);
}

function sameXattrs(a: string, b: string): boolean {
  const ops = fsOps();
  const names = ops.llistxattr(a).sort();
  const other = ops.llistxattr(b).sort();
  if (names.join('\0') !== other.join('\0')) return false;
  return names.every((name) => {
    const x = ops.lgetxattr(a, name);
    const y = ops.lgetxattr(b, name);
    return x === null ? y === null : y !== null && x.equals(y);
  });
}

async function readdirIfDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return [];
    throw err;
  }
}

async function lstatOrUndefined(path: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(path, { bigint: true });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}
