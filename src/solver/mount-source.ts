import {
  chmodSync,
  closeSync,
  copyFileSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  openSync,
  utimesSync,
  constants as fsConstants,
} from 'node:fs';
import { join, posix } from 'node:path';
import { InvalidInputError, isErrno } from '../errors.js';
import type { Mount } from '../sandbox/index.js';
import type { Located } from '../snapshot/index.js';
import { fsOps } from '../snapshot/native.js';

/** What a bind mount reads: a located entry of its source tree, and what of it the tree hides. */
export interface BindSource {
  located: Located;
  /** Entries below a located directory that are on disk but not in the tree (.dockerignore'd), relative to it. */
  hidden: readonly string[];
}

/**
 * The sandbox mounts of a RUN's bind mount. Every source is given as a path *beneath* its layer
 * directory, which the sandbox opens itself without following any symlink and mounts by fd, so a
 * symlink planted in a stage, an image or the context never turns the mount into one of a host
 * file. A directory merged from several layers, or with entries to hide, is an overlay of those
 * layers (under whiteouts for what is hidden). `rw` writes to a throwaway upper directory (to a
 * copy, for a file), never to the source.
 */
export function bindMounts(source: BindSource, target: string, rw: boolean, scratch: string): Mount[] {
  const { located, hidden } = source;
  if (!located.stat.isDirectory()) {
    const file = { root: located.layerDirs[0]!, path: located.path };
    if (!rw) return [{ type: 'bind', source: '', destination: target, options: ['rbind', 'ro'], beneath: [file] }];
    const copy = join(scratch, 'file');
    copyBeneath(file.root, file.path, copy);
    return [{ type: 'bind', source: copy, destination: target, options: ['rbind', 'rw'] }];
  }
  const lowers = located.layerDirs.map((root) => ({ root, path: located.path }));
  if (hidden.length > 0)
    lowers.unshift({
      root: whiteoutLayer(join(scratch, 'hide'), join(located.layerDirs[0]!, located.path), hidden),
      path: '/',
    });
  if (lowers.length === 1 && !rw)
    return [{ type: 'bind', source: '', destination: target, options: ['rbind', 'ro'], beneath: lowers }];
  const options: string[] = [];
  if (rw) {
    mkdirSync(join(scratch, 'upper'));
    mkdirSync(join(scratch, 'work'));
    options.push(`upperdir=${join(scratch, 'upper')}`, `workdir=${join(scratch, 'work')}`);
  }
  return [{ type: 'overlay', source: 'overlay', destination: target, options, beneath: lowers }];
}

/** Copies the regular file `path` below `root` to `to`, opening it without following any symlink. */
function copyBeneath(root: string, path: string, to: string): void {
  const { constants: c, openat2 } = fsOps();
  const base = openat2(c.AT_FDCWD, root, c.O_PATH | c.O_DIRECTORY | c.O_CLOEXEC, 0, 0);
  let fd: number | undefined;
  try {
    fd = openat2(
      base,
      path.replace(/^\/+/, ''),
      c.O_PATH | c.O_CLOEXEC,
      0,
      c.RESOLVE_BENEATH | c.RESOLVE_NO_SYMLINKS | c.RESOLVE_NO_MAGICLINKS,
    );
    copyFileSync(`/proc/self/fd/${fd}`, to);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ELOOP') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EXDEV')) {
      throw new InvalidInputError(`${path} changed while it was being mounted`, { cause: err });
    }
    throw err;
  } finally {
    if (fd !== undefined) closeSync(fd);
    closeSync(base);
  }
}

/**
 * A directory of overlay whiteouts for `hidden` (paths relative to `shown`, the host directory
 * laid under it), whose directories carry the metadata of `shown`'s, as the merged view shows the
 * top layer's.
 */
function whiteoutLayer(dir: string, shown: string, hidden: readonly string[]): string {
  const { mknodat, constants: c } = fsOps();
  const made = new Set<string>();
  const directory = (rel: string) => {
    if (made.has(rel)) return;
    if (rel !== '') directory(parentOf(rel));
    const host = join(dir, rel);
    const st = lstatSync(join(shown, rel));
    mkdirSync(host);
    lchownSync(host, st.uid, st.gid);
    chmodSync(host, st.mode & 0o7777);
    made.add(rel);
  };
  for (const rel of hidden) {
    directory(parentOf(rel));
    const fd = openSync(join(dir, parentOf(rel)), fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
    try {
      mknodat(fd, posix.basename(rel), c.S_IFCHR, 0, 0);
    } finally {
      closeSync(fd);
    }
  }
  for (const rel of [...made].sort().reverse()) {
    const st = lstatSync(join(shown, rel));
    utimesSync(join(dir, rel), st.atime, st.mtime);
  }
  return dir;
}

function parentOf(rel: string): string {
  const parent = posix.dirname(rel);
  return parent === '.' ? '' : parent;
}
