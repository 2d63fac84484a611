import { closeSync, readdirSync, rmSync, write } from 'node:fs';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { InvalidInputError, TcbuildError, isErrno, messageOf } from '../errors.js';
import { DigestingStream, type Digest } from '../image/digest.js';
import { createDecompressor, type StreamCompression } from './compression.js';
import { fsOps, pathAt } from './native.js';
import { ScopedDir } from './scoped-dir.js';
import type { TarEntry } from './tar-format.js';
import { readTar } from './tar-reader.js';
import { OPAQUE_WHITEOUT, OVERLAY_OPAQUE_XATTR, WHITEOUT_META_PREFIX, WHITEOUT_PREFIX } from './whiteout.js';
import { setLayerXattrs } from './xattrs.js';

const writeAsync = promisify(write);

/**
 * How deletions are applied: as overlay's whiteouts (a 0/0 device, an opaque xattr) in a dir that
 * becomes an overlay lower dir, or by removing files from a full copy of the parent.
 */
export type WhiteoutMode = 'overlay' | 'delete';

/**
 * Extracts an OCI layer into `targetDir`. Entries that would land outside `targetDir` are refused,
 * and no path is ever resolved through a symlink — not even one inside the target. An archive
 * that names a path twice is refused too: which of the two wins is up to each tool.
 */
export async function applyLayer(
  compressed: Readable,
  compression: StreamCompression,
  targetDir: string,
  options: ApplyOptions = {},
): Promise<{ diffId: Digest; paths: ReadonlySet<string> }> {
  const diffId = new DigestingStream();
  const root = ScopedDir.open(targetDir);
  const extractor = new LayerExtractor(root, options);
  try {
    const extract = async (tar: AsyncIterable<Buffer>): Promise<void> => {
      for await (const { entry, body } of readTar(tar)) await extractor.apply(entry, body);
      extractor.finish();
    };
    const decompressor = createDecompressor(compression);
    if (decompressor) await pipeline(compressed, decompressor, diffId, extract);
    else await pipeline(compressed, diffId, extract);
  } finally {
    root.close();
  }
  return { diffId: diffId.digest(), paths: extractor.seen };
}

export interface ApplyOptions {
  whiteouts?: WhiteoutMode;
  /** Skip a root entry that is not a directory, as docker's Untar (ADD) does, instead of refusing the archive. */
  skipNonDirectoryRoot?: boolean;
}

class LayerExtractor {
  /** Directory mtimes are set last: creating their children changes them. */
  private readonly dirTimes: Array<{ path: string[]; mtime: number }> = [];
  /** Paths this layer has written ('a/b', '' for the root), markers included. */
  readonly seen = new Set<string>();
  private readonly whiteouts: WhiteoutMode;

  constructor(
    private readonly root: ScopedDir,
    private readonly options: ApplyOptions,
  ) {
    this.whiteouts = options.whiteouts ?? 'overlay';
  }

  async apply(entry: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    try {
      await this.applyEntry(entry, body);
    } catch (err) {
      const what = `layer entry "${entry.name}"`;
      if (err instanceof InvalidInputError) throw new InvalidInputError(`${what}: ${err.message}`, { cause: err });
      throw new TcbuildError(`cannot extract ${what} into ${this.root.path}: ${messageOf(err)}`, { cause: err });
    }
  }

  finish(): void {
    for (const { path, mtime } of this.dirTimes)
      this.atParent(path, false, (dirfd, name) => setTimes(dirfd, name, mtime));
  }

  private async applyEntry(entry: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    const path = archivePath(entry.name);
    const name = path.at(-1);
    if (path.slice(0, -1).some((p) => p.startsWith(WHITEOUT_META_PREFIX))) return; // inside aufs bookkeeping
    this.claim(path.join('/'));
    if (name === undefined) {
      if (entry.type !== 'dir' && this.options.skipNonDirectoryRoot) return;
      if (entry.type !== 'dir') throw new InvalidInputError('the archive root must be a directory');
      this.atParent(path, false, (dirfd) => this.applyDir(dirfd, '.', path, entry));
      return;
    }
    if (name.startsWith(WHITEOUT_PREFIX)) {
      this.applyWhiteout(path, name, entry.mtime);
      return;
    }
    const dirfd = this.root.openDir(path.slice(0, -1), true);
    try {
      if (entry.type === 'dir') this.applyDir(dirfd, name, path, entry);
      else if (entry.type === 'hardlink') this.applyHardlink(dirfd, name, entry);
      else await this.applyNonDir(dirfd, name, entry, body);
    } finally {
      closeSync(dirfd);
    }
  }

  /** Each path once: a second entry for it (a whiteout included) is an error. */
  private claim(path: string): void {
    if (this.seen.has(path)) throw new InvalidInputError(`"${path || '.'}" appears twice in the layer`);
    this.seen.add(path);
  }

  private applyWhiteout(path: string[], name: string, mtime: number): void {
    const ops = fsOps();
    const parent = path.slice(0, -1);
    if (name === OPAQUE_WHITEOUT) {
      this.atParent([...parent, '.'], true, (dirfd, dir) => {
        if (this.whiteouts === 'overlay') ops.lsetxattr(pathAt(dirfd, dir), OVERLAY_OPAQUE_XATTR, Buffer.from('y'));
        else this.removeOlderChildren(dirfd, parent);
      });
      return;
    }
    if (name.startsWith(WHITEOUT_META_PREFIX)) return; // aufs bookkeeping, meaningless on overlay
    const hidden = name.slice(WHITEOUT_PREFIX.length);
    if (hidden === '' || hidden === '.' || hidden === '..') {
      throw new InvalidInputError(`"${name}" is not a valid whiteout: it must name a file in its own directory`);
    }
    this.claim([...parent, hidden].join('/'));
    this.atParent([...parent, hidden], true, (dirfd, base) => {
      removeExisting(dirfd, base);
      if (this.whiteouts !== 'overlay') return;
      ops.mknodat(dirfd, base, ops.constants.S_IFCHR, 0, 0);
      // The whiteout's time is the entry's, so the same layer comes out of this snapshot again.
      setTimes(dirfd, base, mtime);
    });
  }

  /** An opaque directory on a full copy: what the parent had in it goes, this layer's entries stay. */
  private removeOlderChildren(dirfd: number, dir: string[]): void {
    for (const child of readdirSync(pathAt(dirfd, '.'))) {
      if (!this.seen.has([...dir, child].join('/'))) removeExisting(dirfd, child);
    }
  }

  private applyDir(dirfd: number, name: string, path: string[], entry: TarEntry): void {
    const mode = fsOps().lstatMode(dirfd, name);
    if (mode === null || !isDirMode(mode)) {
      removeExisting(dirfd, name);
      fsOps().mkdirat(dirfd, name, 0o700);
    }
    setAttributes(dirfd, name, entry);
    this.dirTimes.push({ path: name === '.' ? [...path, '.'] : path, mtime: entry.mtime });
  }

  private applyHardlink(dirfd: number, name: string, entry: TarEntry): void {
    const target = archivePath(entry.linkname, 'hard link target');
    if (target.length === 0) throw new InvalidInputError('a hard link cannot point to the archive root');
    removeExisting(dirfd, name);
    this.atParent(target, false, (targetDirfd, targetName) => {
      try {
        fsOps().linkat(targetDirfd, targetName, dirfd, name);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) {
          throw new InvalidInputError(`hard link target "${entry.linkname}" is not earlier in this layer`, {
            cause: err,
          });
        }
        throw err;
      }
    });
  }

  private async applyNonDir(dirfd: number, name: string, entry: TarEntry, body: AsyncIterable<Buffer>): Promise<void> {
    const ops = fsOps();
    const c = ops.constants;
    removeExisting(dirfd, name);
    switch (entry.type) {
      case 'file':
        await writeFile(this.root.createFile(dirfd, name), body);
        break;
      case 'symlink':
        ops.symlinkat(entry.linkname, dirfd, name);
        break;
      case 'char':
      case 'block':
      case 'fifo': {
        const type = entry.type === 'char' ? c.S_IFCHR : entry.type === 'block' ? c.S_IFBLK : c.S_IFIFO;
        ops.mknodat(dirfd, name, type | (entry.mode & 0o777), entry.devmajor, entry.devminor);
        break;
      }
    }
    setAttributes(dirfd, name, entry);
    setTimes(dirfd, name, entry.mtime);
  }

  /** Runs `fn` with the (safely opened) parent directory of `path` and its last component. */
  private atParent(path: string[], create: boolean, fn: (dirfd: number, name: string) => void): void {
    const dirfd = this.root.openDir(path.slice(0, -1), create);
    try {
      fn(dirfd, path.at(-1) ?? '.');
    } finally {
      closeSync(dirfd);
    }
  }
}

/**
 * The components of an archive path. Absolute paths and '..' are refused rather than cleaned:
 * no tool that writes layers honestly produces them.
 */
function archivePath(name: string, what = 'path'): string[] {
  if (name.startsWith('/')) throw new InvalidInputError(`${what} "${name}" is absolute`);
  const components = name.split('/').filter((c) => c !== '' && c !== '.');
  if (components.includes('..')) throw new InvalidInputError(`${what} "${name}" contains '..'`);
  return components;
}

function isDirMode(mode: number): boolean {
  return (mode & 0o170000) === 0o040000;
}

/** Later entries replace earlier ones, as when tar extracts over existing files. */
function removeExisting(dirfd: number, name: string): void {
  const mode = fsOps().lstatMode(dirfd, name);
  if (mode === null) return;
  if (isDirMode(mode)) rmSync(pathAt(dirfd, name), { recursive: true });
  else fsOps().unlinkat(dirfd, name, false);
}

async function writeFile(fd: number, body: AsyncIterable<Buffer>): Promise<void> {
  try {
    for await (const chunk of body) {
      for (let done = 0; done < chunk.length; )
        done += (await writeAsync(fd, chunk, done, chunk.length - done)).bytesWritten;
    }
  } finally {
    closeSync(fd);
  }
}

/** Owner, then mode (chown clears setuid bits), then xattrs (chown clears security.capability). */
function setAttributes(dirfd: number, name: string, entry: TarEntry): void {
  const ops = fsOps();
  ops.fchownat(dirfd, name, entry.uid, entry.gid);
  if (entry.type !== 'symlink') ops.fchmodat(dirfd, name, entry.mode);
  setLayerXattrs(pathAt(dirfd, name), entry.xattrs);
}

function setTimes(dirfd: number, name: string, mtime: number): void {
  const seconds = Math.floor(mtime);
  const nanoseconds = Math.min(Math.round((mtime - seconds) * 1e9), 999_999_999);
  fsOps().utimensat(dirfd, name, seconds, nanoseconds, seconds, nanoseconds);
}
