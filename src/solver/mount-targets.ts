import { lstat, readdir, rmdir, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { MOUNT_TARGETS } from '../sandbox/index.js';
import type { LayeredView } from '../snapshot/index.js';

/**
 * Removes from a RUN's upper directory what the sandbox created only to mount over (/proc,
 * /etc/hosts, … when the image lacks them), and the parent directories that holds them when
 * nothing else changed there — so a RUN's layer holds only what the command did, as with BuildKit.
 */
export async function removeMountTargets(upper: string, below: LayeredView): Promise<void> {
  const parents = new Set<string>();
  for (const target of [...MOUNT_TARGETS].sort().reverse()) {
    if (posix.dirname(target) !== '/') parents.add(posix.dirname(target));
    if (below.lstat(target)) continue;
    const st = await lstat(join(upper, target)).catch(() => undefined);
    if (!st) continue;
    if (st.isFile() && st.size === 0) await unlink(join(upper, target));
    else if (st.isDirectory() && (await readdir(join(upper, target))).length === 0) await rmdir(join(upper, target));
  }
  for (const dir of parents) {
    const st = await lstat(join(upper, dir)).catch(() => undefined);
    if (!st?.isDirectory() || (await readdir(join(upper, dir))).length > 0) continue;
    const original = below.lstat(dir);
    const unchanged = original?.isDirectory() && original.mode === st.mode && original.uid === st.uid && original.gid === st.gid;
    if (!original || unchanged) await rmdir(join(upper, dir));
  }
}
