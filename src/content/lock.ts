import { open, readFile, unlink } from 'node:fs/promises';
import { isErrno } from '../errors.js';
import { pidAlive } from './owner.js';

const RETRY_MS = 10;
const TIMEOUT_MS = 60_000;

/**
 * Callers in this process queue here, each taking the file when the one before lets go, instead
 * of polling it every RETRY_MS as waiters in other processes must.
 */
const inProcess = new Map<string, Promise<void>>();

/**
 * Runs `fn` while holding an exclusive lock file (O_EXCL), so two tcbuild processes sharing one
 * root never interleave read-modify-write cycles. A lock left by a dead process is taken over.
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
  const start = Date.now();
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
      const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
      if (owner > 0 && owner !== process.pid && !pidAlive(owner)) {
        await unlink(lockPath).catch(() => undefined);
        continue;
      }
      if (Date.now() - start > TIMEOUT_MS) {
        throw new Error(`timed out waiting for the lock ${lockPath} (held by pid ${owner || 'unknown'})`);
      }
      await new Promise((r) => setTimeout(r, RETRY_MS));
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lockPath).catch(() => undefined);
  }
}
