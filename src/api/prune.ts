import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import { openRoot } from '../root.js';
import { reachableBlobs } from './images.js';

export interface PruneResult {
  blobs: number;
  bytes: number;
}

/**
 * Removes the build cache (records and snapshots) and every blob no stored image name reaches.
 * Tagged images and their layers stay.
 */
export async function prune(root?: string): Promise<PruneResult> {
  const store = await openRoot(root);
  await rm(join(store.root, 'cache'), { recursive: true, force: true });
  await store.snapshotter.removeAll();
  const keep = await reachableBlobs(store.layout, (await store.layout.list()).map((e) => e.descriptor));
  let blobs = 0;
  let bytes = 0;
  for await (const digest of store.layout.blobs.list()) {
    if (keep.has(digest)) continue;
    bytes += (await store.layout.blobs.sizeOf(digest)) ?? 0;
    await store.layout.blobs.delete(digest);
    blobs++;
  }
  await removeStaleIngests(join(store.root, 'ingest'));
  return { blobs, bytes };
}

async function removeStaleIngests(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  for (const name of names) {
    const pid = Number(name.split('-')[1]);
    if (!alive(pid)) await rm(join(dir, name), { force: true });
  }
}
