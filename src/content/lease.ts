import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import type { Digest } from '../image/digest.js';
import { currentOwner, isOwnerAlive, type Owner } from './owner.js';

/**
 * What a running tcbuild holds in a store root, so that no other process's prune or GC removes
 * it: one file per process under `root/leases`, named by its owner and appended to as it uses
 * snapshots ("s KEY") and blobs ("b DIGEST").
 * The file goes when the process exits; a killed process's file is found dead and removed.
 */
export class Lease {
  private readonly path: string;
  private readonly noted = new Set<string>();

  private constructor(dir: string) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, currentOwner());
    appendFileSync(this.path, '');
    process.once('exit', () => rmSync(this.path, { force: true }));
  }

  private static readonly byRoot = new Map<string, Lease>();

  /** This process's lease on `root` (one per process and root). */
  static of(root: string): Lease {
    let lease = Lease.byRoot.get(root);
    if (!lease) {
      lease = new Lease(join(root, 'leases'));
      Lease.byRoot.set(root, lease);
    }
    return lease;
  }

  holdSnapshot(key: string): void {
    this.note(`s ${key}`);
  }

  holdBlob(digest: Digest): void {
    this.note(`b ${digest}`);
  }

  private note(line: string): void {
    if (this.noted.has(line)) return;
    this.noted.add(line);
    appendFileSync(this.path, `${line}\n`);
  }
}

/** What the other live processes on a root hold. */
export interface Held {
  owners: Owner[];
  snapshots: Set<string>;
  blobs: Set<Digest>;
}

/** The leases of live processes other than this one; dead processes' lease files are removed. */
export function heldByOthers(root: string): Held {
  const dir = join(root, 'leases');
  const held: Held = { owners: [], snapshots: new Set(), blobs: new Set() };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return held;
    throw err;
  }
  for (const owner of names) {
    if (owner === currentOwner()) continue;
    const path = join(dir, owner);
    if (!isOwnerAlive(owner)) {
      rmSync(path, { force: true });
      continue;
    }
    try {
      for (const line of readFileSync(path, 'utf8').split('\n')) {
        if (line.startsWith('s ')) held.snapshots.add(line.slice(2));
        else if (line.startsWith('b ')) held.blobs.add(line.slice(2) as Digest);
      }
      held.owners.push(owner);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err; // it exited meanwhile
    }
  }
  return held;
}
