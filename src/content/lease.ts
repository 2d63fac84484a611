import { appendFileSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import type { Digest } from '../image/digest.js';
import { LockFile, withLock } from './lock.js';
import { currentOwner, isOwnerAlive, type Owner } from './owner.js';

/**
 * What a running tcbuild holds in a store root, so that no other process's prune or GC removes
 * it: one file per process under `root/leases`, named by its owner and appended to as it uses
 * snapshots ("s KEY") and blobs ("b DIGEST").
 *
 * The rule that makes this safe against a concurrent prune: a process notes an object *before*
 * it looks for it, writes it or refers to it, and notes under a shared lock on
 * `root/leases.lock`, which a prune takes exclusively while it reads the leases and deletes (see
 * `withoutNewLeases`). So either the note came first and the prune keeps the object, or the prune
 * came first and the process finds the object gone and makes it again.
 *
 * The file goes when the process exits. A dead process's file is removed only by a prune that
 * began after it died (by then whatever it referred to is seen as referred to) or by start-up
 * recovery when no other tcbuild is alive.
 */
export class Lease {
  private readonly path: string;
  private readonly lock: LockFile;
  private readonly noted = new Set<string>();
  /** Notes one at a time: they share one lock file, which one note's unlock would release for all. */
  private queue: Promise<void> = Promise.resolve();

  private constructor(root: string) {
    mkdirSync(join(root, 'leases'), { recursive: true });
    this.path = join(root, 'leases', currentOwner());
    this.lock = LockFile.open(join(root, 'leases.lock'));
    appendFileSync(this.path, '');
    process.once('exit', () => rmSync(this.path, { force: true }));
  }

  private static readonly byRoot = new Map<string, Lease>();

  /** This process's lease on `root` (one per process and root). */
  static of(root: string): Lease {
    let lease = Lease.byRoot.get(root);
    if (!lease) {
      lease = new Lease(root);
      Lease.byRoot.set(root, lease);
    }
    return lease;
  }

  holdSnapshot(key: string): Promise<void> {
    return this.note(`s ${key}`);
  }

  holdBlob(digest: Digest): Promise<void> {
    return this.note(`b ${digest}`);
  }

  private note(line: string): Promise<void> {
    if (this.noted.has(line)) return this.queue;
    this.noted.add(line);
    const written = this.queue.then(async () => {
      await this.lock.lock('shared');
      try {
        appendFileSync(this.path, `${line}\n`);
      } finally {
        this.lock.unlock();
      }
    });
    this.queue = written.catch(() => undefined);
    return written.catch((err: unknown) => {
      this.noted.delete(line);
      throw err;
    });
  }
}

/** What lease files list. */
export interface Held {
  snapshots: Set<string>;
  blobs: Set<Digest>;
}

/** The owners of the lease files on `root` other than this process, by whether they are alive. */
export function otherLeases(root: string): { alive: Owner[]; dead: Owner[] } {
  const found = { alive: [] as Owner[], dead: [] as Owner[] };
  for (const owner of leaseFiles(root)) {
    if (owner !== currentOwner()) (isOwnerAlive(owner) ? found.alive : found.dead).push(owner);
  }
  return found;
}

/** What every other process's lease file lists, but those of `ignored`. */
export function heldExcept(root: string, ignored: ReadonlySet<Owner>): Held {
  const held: Held = { snapshots: new Set(), blobs: new Set() };
  for (const owner of leaseFiles(root)) {
    if (owner === currentOwner() || ignored.has(owner)) continue;
    let text: string;
    try {
      text = readFileSync(join(root, 'leases', owner), 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) continue; // it exited meanwhile
      throw err;
    }
    for (const line of text.split('\n')) {
      if (line.startsWith('s ')) held.snapshots.add(line.slice(2));
      else if (line.startsWith('b ')) held.blobs.add(line.slice(2) as Digest);
    }
  }
  return held;
}

export function removeLeases(root: string, owners: Iterable<Owner>): void {
  for (const owner of owners) rmSync(join(root, 'leases', owner), { force: true });
}

/** Runs `fn` while no process on `root` can note a new lease: the lease files it reads stay as they are. */
export function withoutNewLeases<T>(root: string, fn: () => Promise<T>): Promise<T> {
  return withLock(join(root, 'leases.lock'), fn);
}

function leaseFiles(root: string): string[] {
  try {
    return readdirSync(join(root, 'leases'));
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}
