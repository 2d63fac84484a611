import { createReadStream, readFileSync } from 'node:fs';
import { readlink } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { Readable, pipeline } from 'node:stream';
import { TcbuildError } from '../errors.js';
import { DigestingStream, type Digest } from '../image/digest.js';
import type { LayerCompression } from '../image/media-types.js';
import type { Descriptor } from '../image/types.js';
import type { ContentStore } from '../content/store.js';
import { createCompressor, layerMediaType } from './compression.js';
import { END_OF_ARCHIVE, compareBytes, encodeEntryHeader, paddingFor, tarEntry, type TarEntry } from './tar-format.js';
import { upperDirChanges, type Change, type ChangeSource } from './changes.js';
import { OPAQUE_WHITEOUT, WHITEOUT_PREFIX } from './whiteout.js';
import { layerXattrsOf } from './xattrs.js';

export interface WriteLayerOptions {
  compression: LayerCompression;
  /** gzip 0-9 (default 6), zstd 1-22 (default 3). */
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
 * `store`, in one streaming pass: tar → diffID hash → compressor → store (which hashes the digest).
 */
export function writeLayer(dir: string, store: ContentStore, options: WriteLayerOptions): Promise<WrittenLayer> {
  return writeChangesLayer(upperDirChanges(dir), store, options);
}

/** writeLayer for any source of changes (an upper dir, or the difference of two trees). */
export async function writeChangesLayer(
  changes: ChangeSource,
  store: ContentStore,
  options: WriteLayerOptions,
): Promise<WrittenLayer> {
  const compressor = createCompressor(options.compression, options.level);
  const counter = { entries: 0 };
  const tar = Readable.from(coalesce(layerTar(changes, options.sourceDateEpoch, counter)), { objectMode: false });
  const diffId = new DigestingStream();
  // pipeline() hands back its last stage and destroys every stage on a failure, so ingest() sees
  // errors from the walk too; its own callback has nothing left to do.
  const done = (): void => undefined;
  const layer = compressor ? pipeline(tar, diffId, compressor, done) : pipeline(tar, diffId, done);
  const blob = await store.ingest(layer);
  return {
    descriptor: { mediaType: layerMediaType(options.compression), digest: blob.digest, size: blob.size },
    diffId: diffId.digest(),
    empty: counter.entries === 0,
  };
}

interface WalkContext {
  changes: ChangeSource;
  clampTo: number | undefined;
  counter: { entries: number };
  /** "dev:ino" → the archive path that first had it, for hard links. */
  firstPathOfInode: Map<string, string>;
}

async function* layerTar(
  changes: ChangeSource,
  clampTo: number | undefined,
  counter: { entries: number },
): AsyncGenerator<Buffer> {
  yield* walkDir({ changes, clampTo, counter, firstPathOfInode: new Map() }, '');
  yield END_OF_ARCHIVE;
}

/** A change's name in the archive; siblings sorted by it give a bytewise-sorted archive. */
function archiveName(change: Change): string {
  if (change.kind === 'opaque') return OPAQUE_WHITEOUT;
  if (change.kind === 'whiteout') return WHITEOUT_PREFIX + change.name;
  return change.stat.isDirectory() ? `${change.name}/` : change.name;
}

/** Entries under `relDir` ('' or ending in '/'), depth first, in bytewise order of archive path. */
async function* walkDir(ctx: WalkContext, relDir: string): AsyncGenerator<Buffer> {
  const children = (await ctx.changes(relDir)).map((change) => ({ change, sortKey: archiveName(change) }));
  children.sort((a, b) => compareBytes(a.sortKey, b.sortKey));

  for (const { change, sortKey } of children) {
    const path = relDir + sortKey;
    if (change.kind !== 'entry') {
      yield emit(ctx, markerEntry(path, change.stat, ctx.clampTo));
      continue;
    }
    const entry = await entryFor(ctx, path, change.absPath, change.stat);
    if (!entry) continue;
    yield emit(ctx, entry);
    if (entry.type === 'dir') yield* walkDir(ctx, path);
    if (entry.type === 'file' && entry.size > 0) yield* fileData(change.absPath, entry.size);
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

async function entryFor(
  ctx: WalkContext,
  path: string,
  absPath: string,
  stat: BigIntStats,
): Promise<TarEntry | undefined> {
  const entry = tarEntry({
    name: path,
    type: 'file',
    mode: Number(stat.mode) & 0o7777,
    uid: Number(stat.uid),
    gid: Number(stat.gid),
    mtime: mtimeOf(stat, ctx.clampTo),
    xattrs: layerXattrsOf(absPath),
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

/** Files up to this size are read in one synchronous call: cheaper than a stream for small files. */
const SMALL_FILE = 256 * 1024;

async function* fileData(absPath: string, size: number): AsyncGenerator<Buffer> {
  let read = 0;
  const chunks =
    size <= SMALL_FILE
      ? [readFileSync(absPath)]
      : (createReadStream(absPath, { end: size - 1, highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>);
  for await (const chunk of chunks) {
    read += chunk.length;
    if (read > size) break;
    yield chunk;
  }
  if (read !== size)
    throw new TcbuildError(`${absPath} changed while it was being archived (${read} of ${size} bytes)`);
  yield Buffer.alloc(paddingFor(size));
}

/**
 * Joins the many small pieces of a tar (headers, small files, padding) into chunks of about
 * `size`, so hashing, compression and the store see few large writes; large pieces pass as they are.
 */
async function* coalesce(pieces: AsyncIterable<Buffer>, size = 256 * 1024): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingSize = 0;
  for await (const piece of pieces) {
    if (piece.length >= size) {
      if (pendingSize > 0) yield Buffer.concat(pending, pendingSize);
      pending = [];
      pendingSize = 0;
      yield piece;
      continue;
    }
    pending.push(piece);
    pendingSize += piece.length;
    if (pendingSize >= size) {
      yield Buffer.concat(pending, pendingSize);
      pending = [];
      pendingSize = 0;
    }
  }
  if (pendingSize > 0) yield Buffer.concat(pending, pendingSize);
}
