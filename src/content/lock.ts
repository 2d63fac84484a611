import { closeSync, fstatSync, openSync, readFileSync, statSync } from 'node:fs';
import { TcbuildError, isErrno } from '../errors.js';
import { fsOps } from '../snapshot/native.js';

const RETRY_MS = 10;
const TIMEOUT_MS = 60_000;

export type LockMode = 'shared' | 'exclusive';

/**
 * A lock file of the store, held with flock(2) on an open file: the kernel lets go when the holder
 * closes it, exits or is killed, so a lock is never stale, never needs breaking, and one a live
 * process holds is never taken from it. The files are made on first use and never removed: a
 * new file of the same name could be locked while the old one still is. If one is removed anyway,
 * a lock taken on the old file is given up and taken on the new one.
 */
export class LockFile {
  private constructor(
    readonly path: string,
    private fd: number,
  ) {}

  static open(path: string): LockFile {
    return new LockFile(path, openSync(path, 'a'));
  }

  /** Takes the lock if no other open file holds a conflicting one. */
  tryLock(mode: LockMode): boolean {
    for (;;) {
      if (!fsOps().flock(this.fd, mode)) return false;
      if (this.isStillNamed()) return true;
      closeSync(this.fd);
      this.fd = openSync(this.path, 'a');
    }
  }

  /** Waits (polling, as flock(2) would block the event loop) until the lock is taken. */
  async lock(mode: LockMode): Promise<void> {
    const deadline = Date.now() + TIMEOUT_MS;
    while (!this.tryLock(mode)) {
      if (Date.now() > deadline) {
        const holders = holdersOf(fstatSync(this.fd).ino);
        throw new TcbuildError(
          `timed out after ${TIMEOUT_MS / 1000} s waiting for the lock ` +
            `${this.path}${holders.length ? ` (held by pid ${holders.join(', ')})` : ''}`,
          {
            hint: 'another tcbuild is using the store: wait for it to finish, or stop it',
          },
        );
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }

  unlock(): void {
    fsOps().flock(this.fd, 'unlock');
  }

  close(): void {
    closeSync(this.fd);
  }

  private isStillNamed(): boolean {
    try {
      return statSync(this.path).ino === fstatSync(this.fd).ino;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }
}

/** The pids /proc/locks names as holding a lock on a file with this inode number. */
function holdersOf(ino: number): number[] {
  try {
    return readFileSync('/proc/locks', 'utf8')
      .split('\n')
      .map((line) => line.split(/\s+/))
      .filter((fields) => fields[1] === 'FLOCK' && fields[5]?.endsWith(`:${ino}`))
      .map((fields) => Number(fields[4]));
  } catch {
    return [];
  }
}

/**
 * Callers in this process queue here, each taking the file when the one before lets go, instead
 * of polling it every RETRY_MS as waiters in other processes must.
 */
const inProcess = new Map<string, Promise<void>>();

/**
 * Runs `fn` while holding `lockPath` exclusively, so two tcbuild processes sharing one root
 * never interleave read-modify-write cycles.
 */
export async function withLock<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const held = (inProcess.get(lockPath) ?? Promise.resolve()).then(() => withLockFile(lockPath, fn));
  const released = held.then(
    () => undefined,
    () => undefined,
  );
  inProcess.set(lockPath, released);
  try {
    return await held;
  } finally {
    if (inProcess.get(lockPath) === released) inProcess.delete(lockPath);
  }
}

async function withLockFile<T>(lockPath: string, fn: () => Promise<T>): Promise<T> {
  const file = LockFile.open(lockPath);
  try {
    await file.lock('exclusive');
    return await fn();
  } finally {
    file.close();
  }
}
