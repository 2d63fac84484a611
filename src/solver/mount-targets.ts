import { lstatSync, type Stats } from 'node:fs';
import { readdir, rmdir, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { MOUNT_TARGETS } from '../sandbox/spec.js';
import type { LayeredView } from '../snapshot/index.js';

/**
 * Removes from a RUN's upper directory what was created only to mount over — the sandbox's own
 * mount points (/proc, /etc/hosts, … when the image lacks them) and the RUN's --mount targets —
 * and the parent directories that hold them when nothing else changed there, so a RUN's layer
 * holds only what the command did, as with BuildKit.
 */
export async function removeMountTargets(upper: string, below: LayeredView, runMounts: readonly string[] = []): Promise<void> {
  const targets = [...new Set([...MOUNT_TARGETS, ...runMounts].map((t) => posix.normalize(t)))];
  const parents = new Set<string>();
  for (const target of targets.sort().reverse()) {
    for (let dir = posix.dirname(target); dir !== '/'; dir = posix.dirname(dir)) parents.add(dir);
    const st = lstatIfAny(join(upper, target));
    if (!st || below.lstat(target)) continue;
    if (st.isFile() && st.size === 0) await unlink(join(upper, target));
    else if (st.isDirectory() && (await readdir(join(upper, target))).length === 0) await rmdir(join(upper, target));
  }
  for (const dir of [...parents].sort().reverse()) {
    const st = lstatIfAny(join(upper, dir));
    if (!st?.isDirectory() || (await readdir(join(upper, dir))).length > 0) continue;
    const original = below.lstat(dir);
    const unchanged = original?.isDirectory() && original.mode === st.mode && original.uid === st.uid && original.gid === st.gid;
    if (!original || unchanged) await rmdir(join(upper, dir));
  }
}

/** Most targets are absent from a RUN's upper dir: a synchronous lstat that returns undefined then costs no exception. */
function lstatIfAny(path: string): Stats | undefined {
  return lstatSync(path, { throwIfNoEntry: false });
}
