import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isErrno } from '../errors.js';

/**
 * `mkdir -p` for a path the user gave. Node's `recursive: true` loops forever where a parent
 * exists but refuses children with ENOENT (`/proc/x`); this makes each missing parent once.
 */
export async function makeDirectories(path: string, mode = 0o777): Promise<void> {
  try {
    await mkdir(path, { mode });
  } catch (err) {
    if (isErrno(err, 'EEXIST') && (await stat(path)).isDirectory()) return;
    const parent = dirname(path);
    if (!isErrno(err, 'ENOENT') || parent === path) throw err;
    await makeDirectories(parent, mode);
    await mkdir(path, { mode }).catch(async (again: unknown) => {
      if (!isErrno(again, 'EEXIST') || !(await stat(path)).isDirectory()) throw again;
    });
  }
}
