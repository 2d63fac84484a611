import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../content/atomic-file.js';
import { withLock } from '../content/lock.js';
import { isErrno } from '../errors.js';
import type { SnapshotKind } from './snapshotter.js';

export interface SnapshotRecord {
  /** Short id naming the snapshot's directory (kept short for overlay's mount data limit). */
  id: string;
  kind: SnapshotKind;
  parent?: string;
  created: string;
  /** Active snapshots and views: the process using them (see content/owner.ts). */
  owner?: string;
  /** Committed snapshots: bytes of disk their own files take. */
  size?: number;
}

/** Snapshot records by key. Keys are opaque strings, so a Map (never a plain object). */
export type Snapshots = Map<string, SnapshotRecord>;

interface MetadataFile {
  version: 1;
  snapshots: Array<SnapshotRecord & { key: string }>;
}

/**
 * The snapshotter's records in one JSON file: read without a lock (it is only ever replaced
 * atomically), changed under a lock file so concurrent processes never lose each other's updates.
 */
export class MetadataStore {
  constructor(private readonly path: string) {}

  read(): Snapshots {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return new Map();
      throw err;
    }
    const file = JSON.parse(text) as MetadataFile;
    return new Map(file.snapshots.map(({ key, ...record }) => [key, record]));
  }

  /** Runs `change` on the current records and saves them, all under the lock. */
  async update<T>(change: (snapshots: Snapshots) => T): Promise<T> {
    await mkdir(dirname(this.path), { recursive: true });
    return withLock(`${this.path}.lock`, async () => {
      const snapshots = this.read();
      const result = change(snapshots);
      const file: MetadataFile = { version: 1, snapshots: [...snapshots].map(([key, record]) => ({ key, ...record })) };
      await writeFileAtomic(this.path, `${JSON.stringify(file, null, 1)}\n`);
      return result;
    });
  }
}
