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

interface PendingChange {
  change: (snapshots: Snapshots) => unknown;
  resolve: (result: unknown) => void;
  reject: (err: unknown) => void;
}

interface MetadataFile {
  version: 1;
  snapshots: Array<SnapshotRecord & { key: string }>;
}

/**
 * The snapshotter's records in one JSON file: read without a lock (it is only ever replaced
 * atomically), changed under a lock file so concurrent processes never lose each other's updates.
 */
export class MetadataStore {
  /** Changes waiting for the next write: those that arrive while one is under way share the one after it. */
  private pending: PendingChange[] = [];
  private writing: Promise<void> | undefined;

  constructor(private readonly path: string) {}

  read(): Snapshots {
    return parseSnapshots(this.readText());
  }

  /**
   * Runs `change` on the current records and saves them, all under the lock; resolves once they are
   * on disk. Concurrent changes (parallel stages) are applied in order and saved in one write; one
   * that throws is left out and rejects alone. Unchanged records are not rewritten.
   */
  update<T>(change: (snapshots: Snapshots) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ change, resolve: resolve as (result: unknown) => void, reject });
      this.writing ??= this.writePending();
    });
  }

  private async writePending(): Promise<void> {
    try {
      while (this.pending.length > 0) await this.writeBatch(this.pending.splice(0));
    } finally {
      this.writing = undefined;
    }
  }

  private async writeBatch(batch: PendingChange[]): Promise<void> {
    const outcomes: Array<() => void> = [];
    try {
      await mkdir(dirname(this.path), { recursive: true });
      await withLock(`${this.path}.lock`, async () => {
        const before = this.readText();
        let snapshots = parseSnapshots(before);
        for (const { change, resolve, reject } of batch) {
          const changed = new Map(snapshots);
          try {
            const result = change(changed);
            snapshots = changed;
            outcomes.push(() => resolve(result));
          } catch (err) {
            outcomes.push(() => reject(err));
          }
        }
        const after = formatSnapshots(snapshots);
        if (after !== before) await writeFileAtomic(this.path, after);
      });
    } catch (err) {
      for (const { reject } of batch) reject(err);
      return;
    }
    for (const settle of outcomes) settle();
  }

  /** The file's text; undefined when there is none yet. */
  private readText(): string | undefined {
    try {
      return readFileSync(this.path, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }
}

function parseSnapshots(text: string | undefined): Snapshots {
  if (text === undefined) return new Map();
  const file = JSON.parse(text) as MetadataFile;
  return new Map(file.snapshots.map(({ key, ...record }) => [key, record]));
}

function formatSnapshots(snapshots: Snapshots): string {
  const file: MetadataFile = { version: 1, snapshots: [...snapshots].map(([key, record]) => ({ key, ...record })) };
  return `${JSON.stringify(file, null, 1)}\n`;
}
