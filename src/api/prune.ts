import { readFile, readdir, rm, stat, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { heldExcept, otherLeases, removeLeases, withoutNewLeases, type Held } from '../content/lease.js';
import { withLock } from '../content/lock.js';
import { OciLayout } from '../content/layout.js';
import { storeImageOrIndex } from '../content/store-image.js';
import { InvalidInputError, isErrno } from '../errors.js';
import type { Digest } from '../image/digest.js';
import { openRoot, type StoreOptions, type StoreRoot } from '../root.js';
import { allSnapshotters } from '../snapshot/index.js';
import type { CacheRecord } from '../solver/cache.js';
import { baseSnapshotNames } from '../solver/unpack-image.js';

export interface PruneOptions extends StoreOptions {
  /** All build cache, not only what nothing refers to (named images and their blobs stay). */
  all?: boolean;
  /** As `docker builder prune --filter`: only the cache records that match every one go (and what only they used). */
  filters?: PruneFilters;
}

export interface PruneFilters {
  /** `until=`: records last used before this time (ms since the epoch). */
  until?: number;
  /** `label=KEY[=VALUE]`: records with these labels; tcbuild's cache records carry none, so none match. */
  labels?: Record<string, string | undefined>;
}

export interface PruneResult {
  cacheRecords: number;
  snapshots: number;
  blobs: number;
  /** Disk reclaimed: removed blobs and snapshots. */
  bytes: number;
}

/**
 * Removes build cache, as `docker builder prune`: by default what nothing refers to any more
 * (cache records whose snapshot or layer is gone, snapshots no record and no named image uses,
 * blobs no named image and no record reaches); with `all`, every cache record and snapshot too.
 * Named images stay, and so does whatever a running tcbuild holds (see content/lease.ts).
 */
export async function prune(opts: PruneOptions = {}): Promise<PruneResult> {
  const store = await openRoot(opts.root);
  const { filters } = opts;
  if (!filters) return pruneStore(store, { all: opts.all ?? false });
  const matches = (entry: CacheRecordFile) =>
    Object.keys(filters.labels ?? {}).length === 0 && (filters.until === undefined || entry.mtimeMs < filters.until);
  return pruneStore(store, { all: false, drop: async (records) => new Set(records.filter(matches)) });
}

export interface Usage {
  /** Blobs named images reach. */
  images: { count: number; bytes: number };
  /** Snapshots, cache records and blobs only the cache reaches. */
  buildCache: { records: number; snapshots: number; bytes: number };
}

/** What the store takes on disk, as `docker system df`. */
export async function usage(opts: StoreOptions = {}): Promise<Usage> {
  const store = await openRoot(opts.root);
  const imageBlobs = await namedImageBlobs(store.layout);
  const records = await cacheRecords(store.root);
  return {
    images: { count: imageBlobs.size, bytes: sum(imageBlobs.values()) },
    buildCache: { records: records.length, ...(await buildCacheSize(store, imageBlobs)) },
  };
}

/** The snapshots, and the bytes they and the blobs no named image reaches take. */
async function buildCacheSize(
  store: StoreRoot,
  imageBlobs: ReadonlyMap<Digest, number>,
): Promise<{ snapshots: number; bytes: number }> {
  const snapshots = (await Promise.all(allSnapshotters(store.root).map((s) => s.list()))).flat();
  const cacheBlobs: Digest[] = [];
  for await (const digest of store.layout.blobs.list()) if (!imageBlobs.has(digest)) cacheBlobs.push(digest);
  const blobSizes = await Promise.all(cacheBlobs.map((digest) => store.layout.blobs.sizeOf(digest)));
  return {
    snapshots: snapshots.length,
    bytes: sum(blobSizes.map((size) => size ?? 0)) + sum(snapshots.map((s) => s.size ?? 0)),
  };
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/**
 * The automatic GC run after each build, like BuildKit's gc policy: while the build cache takes
 * more than `keepBytes` (default: $TCBUILD_GC_KEEP, else 10% of the file system holding the
 * root), the oldest cache records go, then whatever only they used. Records written since
 * `keepSince` (ms since the epoch: the build that just ran) stay.
 */
export interface GarbageCollectionOptions extends StoreOptions {
  keepBytes?: number;
  keepSince?: number;
}

export async function collectGarbage(options: GarbageCollectionOptions = {}): Promise<PruneResult | undefined> {
  const store = await openRoot(options.root);
  const limit = options.keepBytes ?? (await defaultKeepBytes(store.root));
  const excess = (await buildCacheSize(store, await namedImageBlobs(store.layout))).bytes - limit;
  if (excess <= 0) return undefined;
  return pruneStore(store, {
    all: false,
    drop: async (records, held) => {
      const oldestFirst = [...records].sort((a, b) => a.mtimeMs - b.mtimeMs);
      const dropped = new Set<CacheRecordFile>();
      let freed = 0;
      for (const entry of oldestFirst) {
        if (freed >= excess) break;
        if (held.snapshots.has(entry.record.snapshot) || entry.mtimeMs >= (options.keepSince ?? Infinity)) continue;
        dropped.add(entry);
        freed += entry.record.layer.descriptor.size + ((await snapshotSize(store, entry.record.snapshot)) ?? 0);
      }
      return dropped;
    },
  });
}

/** A size like 10GB, 512MiB or 1000000 (bytes). */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)b?$/i.exec(text.trim());
  if (!match) throw new InvalidInputError(`"${text}" is not a size: write it like 10GB, 512MiB or 1000000`);
  const power = ' kmgt'.indexOf(match[2]!.toLowerCase() || ' ');
  return Math.round(Number(match[1]) * (match[3] ? 1024 : 1000) ** power);
}

async function defaultKeepBytes(root: string): Promise<number> {
  const fromEnv = process.env['TCBUILD_GC_KEEP'];
  if (fromEnv) return parseSize(fromEnv);
  const fs = await statfs(root);
  return Math.floor((fs.blocks * fs.bsize) / 10);
}

interface Collection {
  /** Every cache record and snapshot, not only what nothing refers to (named images stay). */
  all: boolean;
  /** More cache records to drop (GC: the least recently used), given what other processes hold. */
  drop?: (records: readonly CacheRecordFile[], held: Held) => Promise<ReadonlySet<CacheRecordFile>>;
}

/**
 * One collection at a time on a root (`root/prune.lock`), in two steps. First, while builds go on,
 * the cache records to drop and what the kept ones and the named images refer to. Then, while no
 * process can take a lease (`withoutNewLeases`), the leases of every other process — alive, or
 * dead since the collection began — and what neither refers to nor leases goes. A reference made
 * after the first step comes from a process that leased the object first (see content/lease.ts),
 * and a process dead before the collection began made its references before the first step.
 */
async function pruneStore(store: StoreRoot, collection: Collection): Promise<PruneResult> {
  const { result, removeFiles } = await withLock(join(store.root, 'prune.lock'), async () => {
    const deadBefore = new Set(otherLeases(store.root).dead);
    const result: PruneResult = { cacheRecords: 0, snapshots: 0, blobs: 0, bytes: 0 };
    const records = await cacheRecords(store.root);
    const heldBefore = heldExcept(store.root, deadBefore);
    const dropped = (await collection.drop?.(records, heldBefore)) ?? new Set();
    const kept: CacheRecord[] = [];
    for (const entry of records) {
      const { path, record } = entry;
      const goes = collection.all || dropped.has(entry) || (await isDangling(store, record));
      if (goes && !heldBefore.snapshots.has(record.snapshot)) {
        await rm(path, { force: true });
        result.cacheRecords++;
      } else kept.push(record);
    }
    const seen = new Set(records.map((r) => r.path));

    return withoutNewLeases(store.root, async () => {
      // Names and records are read again now that no lease can be noted: a process that named an
      // image or wrote a record since the first read may have exited, and its lease file with it.
      // They are read without noting leases of this process's own: a note would wait for this lock.
      const unleased = new OciLayout(store.root);
      const written = (await cacheRecords(store.root)).filter((r) => !seen.has(r.path)).map((r) => r.record);
      const keptRecords = [...kept, ...written];
      const named = collection.all ? [] : await namedImageSnapshots(unleased);
      const referencedSnapshots = [...keptRecords.map((r) => r.snapshot), ...named];
      const referencedBlobs = [
        ...(await namedImageBlobs(unleased)).keys(),
        ...keptRecords.map((r) => r.layer.descriptor.digest),
      ];
      const held = heldExcept(store.root, deadBefore);
      const keepSnapshots = new Set([...referencedSnapshots, ...held.snapshots]);
      const snapshotFiles: Array<() => Promise<void>> = [];
      for (const snapshotter of allSnapshotters(store.root)) {
        const pruned = await snapshotter.prune(keepSnapshots);
        result.snapshots += pruned.removed;
        result.bytes += pruned.bytes;
        snapshotFiles.push(pruned.removeFiles);
      }
      const keepBlobs = new Set<Digest>([...referencedBlobs, ...held.blobs]);
      for await (const digest of store.layout.blobs.list()) {
        if (keepBlobs.has(digest)) continue;
        result.bytes += (await store.layout.blobs.sizeOf(digest)) ?? 0;
        await store.layout.blobs.delete(digest);
        result.blobs++;
      }
      removeLeases(store.root, deadBefore);
      const removeFiles = async (): Promise<void> => {
        for (const remove of snapshotFiles) await remove();
      };
      return { result, removeFiles };
    });
  });
  await removeFiles();
  return result;
}

/** A cache record whose snapshot or layer is gone. */
async function isDangling(store: StoreRoot, record: CacheRecord): Promise<boolean> {
  return (
    (await snapshotSize(store, record.snapshot, true)) === undefined ||
    (await store.layout.blobs.sizeOf(record.layer.descriptor.digest)) === undefined
  );
}

/** Size of a committed snapshot in any of the root's snapshotters (0 if unknown), or undefined if none has it. */
async function snapshotSize(store: StoreRoot, name: string, anySnapshotter = false): Promise<number | undefined> {
  const snapshotters = anySnapshotter ? allSnapshotters(store.root) : [store.snapshotter];
  for (const snapshotter of snapshotters) {
    const info = (await snapshotter.list()).find((s) => s.name === name);
    if (info) return info.size ?? 0;
  }
  return undefined;
}

interface CacheRecordFile {
  path: string;
  mtimeMs: number;
  record: CacheRecord;
}

/** The build cache's records (src/solver/cache.ts: one JSON file per cache key under `cache/`). */
async function cacheRecords(root: string): Promise<CacheRecordFile[]> {
  const dir = join(root, 'cache');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
  const records: CacheRecordFile[] = [];
  for (const name of names.filter((n) => /^[0-9a-f]{64}$/.test(n))) {
    const path = join(dir, name);
    try {
      records.push({
        path,
        mtimeMs: (await stat(path)).mtimeMs,
        record: JSON.parse(await readFile(path, 'utf8')) as CacheRecord,
      });
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
  }
  return records;
}

async function namedImageBlobs(layout: OciLayout): Promise<Map<Digest, number>> {
  return layout.reachableBlobs((await layout.list()).map((e) => e.descriptor));
}

/** The snapshots the solver unpacks named images' layers into. */
async function namedImageSnapshots(layout: OciLayout): Promise<string[]> {
  const names: string[] = [];
  const visit = async (found: Awaited<ReturnType<typeof storeImageOrIndex>>): Promise<void> => {
    if (found.kind === 'index') {
      for (const child of await found.index.manifests()) {
        if (await layout.blobs.has(child.digest)) await visit({ kind: 'image', image: await found.index.image(child) });
      }
      return;
    }
    names.push(...baseSnapshotNames((await found.image.config()).rootfs.diff_ids));
  };
  for (const { descriptor } of await layout.list()) {
    // an image with missing blobs keeps nothing
    await visit(await storeImageOrIndex(layout.blobs, descriptor)).catch(() => undefined);
  }
  return names;
}
