import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { createGzip } from 'node:zlib';
import { InvalidInputError, TcbuildError } from '../errors.js';
import { DigestingStream, type Digest } from '../image/digest.js';
import { MediaType } from '../image/media-types.js';
import type { Descriptor } from '../image/types.js';
import type { ContentStore } from '../content/store.js';
import { fsOps } from './native.js';
import { END_OF_ARCHIVE, compareBytes, encodeEntryHeader, paddingFor, tarEntry, type TarEntry } from './tar-format.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX, isOpaqueDir, isOverlayWhiteout, isOverlayXattr } from './whiteout.js';

export interface WriteLayerOptions {
  compression: 'gzip' | 'none';
  /** gzip level 0-9 (default 6). */
  level?: number;
  /** SOURCE_DATE_EPOCH: no entry gets a later mtime. */
  sourceDateEpoch?: number;
}

export interface WrittenLayer {
  descriptor: Descriptor;
  diffId: Digest;
  /** The tar has no entries: BuildKit leaves such layers out of the image. */
  empty: boolean;
}

/**
 * Turns a directory — an overlay upper dir, or a whole tree for a base layer — into an OCI layer in
 * `store`, in one streaming pass: tar → diffID hash → gzip → store (which hashes the digest).
 */
export async function writeLayer(dir: string, store: ContentStore, options: WriteLayerOptions): Promise<WrittenLayer> {
  const level = options.level ?? 6;
  if (!Number.isInteger(level) || level < 0 || level > 9) throw new InvalidInputError(`gzip level must be 0-9, not ${level}`);
  const counter = { entries: 0 };
  const tar = Readable.from(layerTar(dir, options.sourceDateEpoch, counter), { objectMode: false });
  const diffId = new DigestingStream();
  // pipeline() hands back its last stage and destroys every stage on a failure, so ingest() sees
  // errors from the walk too; its own callback has nothing left to do.
  const done = (): void => undefined;
  const layer = options.compression === 'gzip' ? pipeline(tar, diffId, createGzip({ level }), done) : pipeline(tar, diffId, done);
  const blob = await store.ingest(layer);
  return {
    descriptor: {
      mediaType: options.compression === 'gzip' ? MediaType.ociLayerGzip : MediaType.ociLayer,
      digest: blob.digest,
      size: blob.size,
    },
    diffId: diffId.digest(),
    empty: counter.entries === 0,
  };
}

interface WalkContext {
  root: string;
  clampTo: number | undefined;
  counter: { entries: number };
  /** "dev:ino" → the archive path that first had it, for hard links. */
  firstPathOfInode: Map<string, string>;
}

async function* layerTar(root: string, clampTo: number | undefined, counter: { entries: number }): AsyncGenerator<Buffer> {
  yield* walkDir({ root, clampTo, counter, firstPathOfInode: new Map() }, '');
  yield END_OF_ARCHIVE;
}

interface Child {
  name: string;
  stat: BigIntStats;
  /** The child's name in the archive; siblings sorted by it give a bytewise-sorted archive. */
  sortKey: string;
}

/** Entries under `relDir` ('' or ending in '/'), depth first, in bytewise order of archive path. */
async function* walkDir(ctx: WalkContext, relDir: string): AsyncGenerator<Buffer> {
  const absDir = join(ctx.root, relDir);
  const children: Child[] = await Promise.all(
    (await readdir(absDir)).map(async (name) => {
      const stat = await lstat(join(absDir, name), { bigint: true });
      const sortKey = isOverlayWhiteout(stat) ? WHITEOUT_PREFIX + name : stat.isDirectory() ? `${name}/` : name;
      return { name, stat, sortKey };
    }),
  );
  if (isOpaqueDir(absDir)) children.push({ name: OPAQUE_WHITEOUT, stat: await lstat(absDir, { bigint: true }), sortKey: OPAQUE_WHITEOUT });
  children.sort((a, b) => compareBytes(a.sortKey, b.sortKey));

  for (const child of children) {
    const path = relDir + child.sortKey;
    if (child.sortKey === OPAQUE_WHITEOUT || isOverlayWhiteout(child.stat)) {
      yield emit(ctx, markerEntry(path, child.stat, ctx.clampTo));
      continue;
    }
    const entry = await entryFor(ctx, path, join(absDir, child.name), child.stat);
    if (!entry) continue;
    yield emit(ctx, entry);
    if (entry.type === 'dir') yield* walkDir(ctx, path);
    if (entry.type === 'file' && entry.size > 0) yield* fileData(join(absDir, child.name), entry.size);
  }
}

function emit(ctx: WalkContext, entry: TarEntry): Buffer {
  ctx.counter.entries++;
  return encodeEntryHeader(entry);
}

/** A whiteout or opaque marker: an empty regular file owned by root. */
function markerEntry(path: string, stat: BigIntStats, clampTo: number | undefined): TarEntry {
  return tarEntry({ name: path, type: 'file', mode: 0, mtime: mtimeOf(stat, clampTo) });
}

async function entryFor(ctx: WalkContext, path: string, absPath: string, stat: BigIntStats): Promise<TarEntry | undefined> {
  const entry = tarEntry({
    name: path,
    type: 'file',
    mode: Number(stat.mode) & 0o7777,
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    mtime: mtimeOf(stat, ctx.clampTo),
    xattrs: xattrsOf(absPath),
  });
  if (stat.isDirectory()) return { ...entry, type: 'dir' };
  if (stat.isSocket()) return undefined; // tar cannot carry sockets; Docker and BuildKit drop them too

  if (stat.nlink > 1n) {
    const inode = `${stat.dev}:${stat.ino}`;
    const first = ctx.firstPathOfInode.get(inode);
    if (first !== undefined) return { ...entry, type: 'hardlink', linkname: first };
    ctx.firstPathOfInode.set(inode, path);
  }
  if (stat.isFile()) return { ...entry, size: Number(stat.size) };
  if (stat.isSymbolicLink()) return { ...entry, type: 'symlink', linkname: await readlink(absPath) };
  if (stat.isFIFO()) return { ...entry, type: 'fifo' };
  const device = { devmajor: Number(major(stat.rdev)), devminor: Number(minor(stat.rdev)) };
  if (stat.isCharacterDevice()) return { ...entry, type: 'char', ...device };
  if (stat.isBlockDevice()) return { ...entry, type: 'block', ...device };
  return undefined;
}

function mtimeOf(stat: BigIntStats, clampTo: number | undefined): number {
  const seconds = Math.floor(Number(stat.mtimeMs) / 1000);
  return clampTo === undefined ? seconds : Math.min(seconds, clampTo);
}

// Linux's dev_t encoding (glibc's gnu_dev_major / gnu_dev_minor).
function major(rdev: bigint): bigint {
  return ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
}
function minor(rdev: bigint): bigint {
  return (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
}

function xattrsOf(absPath: string): Map<string, Buffer> {
  const ops = fsOps();
  const xattrs = new Map<string, Buffer>();
  for (const name of ops.llistxattr(absPath)) {
    if (isOverlayXattr(name)) continue;
    const value = ops.lgetxattr(absPath, name);
    if (value) xattrs.set(name, value);
  }
  return xattrs;
}

async function* fileData(absPath: string, size: number): AsyncGenerator<Buffer> {
  let read = 0;
  for await (const chunk of createReadStream(absPath, { end: size - 1 }) as AsyncIterable<Buffer>) {
    read += chunk.length;
    yield chunk;
  }
  if (read !== size) throw new TcbuildError(`${absPath} changed while it was being archived (${read} of ${size} bytes)`);
  yield Buffer.alloc(paddingFor(size));
}
