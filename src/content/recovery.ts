import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import type { Snapshotter } from '../snapshot/snapshotter.js';
import { otherLeases, removeLeases } from './lease.js';
import { withLock } from './lock.js';
import { pidAlive } from './owner.js';

const recovered = new Set<string>();

/**
 * Start-up recovery of a store root after a crash (SIGKILL mid-RUN, mid-commit, mid-ingest), run
 * once per process and root under `root/recovery.lock`. With no other live tcbuild on the root
 * (see lease.ts) every leftover goes: partial ingests, abandoned snapshots and directories, RUN
 * mount points, dead processes' lease files. With others alive, only what dead processes left
 * (their lease files wait for a prune: see lease.ts). Blobs need nothing: a blob only ever gets
 * its name once verified, and a cache record once its snapshot and blob exist.
 */
export async function recoverRoot(root: string, snapshotters: readonly Snapshotter[]): Promise<void> {
  if (recovered.has(root)) return;
  recovered.add(root);
  await withLock(join(root, 'recovery.lock'), async () => {
    const leases = otherLeases(root);
    const othersAlive = leases.alive.length > 0;
    if (!othersAlive) removeLeases(root, leases.dead);
    for (const name of await namesIn(join(root, 'ingest'))) {
      const pid = Number(name.split('-')[1]);
      if (!othersAlive || !pidAlive(pid)) await rm(join(root, 'ingest', name), { force: true });
    }
    for (const snapshotter of snapshotters) await snapshotter.recover(othersAlive);
    if (!othersAlive)
      for (const name of await namesIn(join(root, 'run')))
        await rm(join(root, 'run', name), { recursive: true, force: true });
  });
}

async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}
