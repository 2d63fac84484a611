import { closeSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { InvalidInputError, isErrno } from '../errors.js';
import { MOUNT_TARGETS } from '../sandbox/spec.js';
import type { LayeredView } from '../snapshot/index.js';
import { fsOps } from '../snapshot/native.js';
import { ScopedDir } from '../snapshot/scoped-dir.js';

/**
 * Removes from a RUN's upper directory what was created only to mount over — the sandbox's own
 * mount points (/proc, /etc/hosts, … when the image lacks them) and the RUN's --mount targets —
 * and the parent directories that hold them when nothing else changed there, so a RUN's layer
 * holds only what the command did, as with BuildKit. The command may have replaced any of those
 * directories with a symlink: every lookup is fd-relative and follows none, so nothing outside
 * the upper directory is ever removed.
 */
export async function removeMountTargets(
  upper: string,
  below: LayeredView,
  runMounts: readonly string[] = [],
): Promise<void> {
  const targets = [...new Set([...MOUNT_TARGETS, ...runMounts].map((t) => posix.normalize(t)))];
  const parents = new Set<string>();
  const scoped = ScopedDir.open(upper);
  try {
    for (const target of targets.sort().reverse()) {
      for (let dir = posix.dirname(target); dir !== '/'; dir = posix.dirname(dir)) parents.add(dir);
      if (below.lstat(target)) continue;
      removeIf(scoped, target, (st, empty) => (st.isFile() && st.size === 0) || empty);
    }
    for (const dir of [...parents].sort().reverse()) {
      const original = below.lstat(dir);
      removeIf(scoped, dir, (st, empty) => {
        const unchanged =
          original?.isDirectory() && original.mode === st.mode && original.uid === st.uid && original.gid === st.gid;
        return empty && (!original || unchanged === true);
      });
    }
  } finally {
    scoped.close();
  }
}

/** Removes the entry at `path` when `removable` says so; nothing reached through a symlink or a file is touched. */
function removeIf(scoped: ScopedDir, path: string, removable: (st: Stats, emptyDir: boolean) => boolean): void {
  const parts = path.split('/').filter(Boolean);
  const name = parts.pop();
  if (name === undefined) return;
  let dirfd: number;
  try {
    dirfd = scoped.openDir(parts, false);
  } catch (err) {
    // Absent, or the command put a symlink or a file on the way: not a mount point of ours.
    if (err instanceof InvalidInputError || isErrno(err, 'ENOENT')) return;
    throw err;
  }
  try {
    const st = scoped.lstatAt(dirfd, name);
    if (st && removable(st, st.isDirectory() && scoped.isEmptyDirAt(dirfd, name)))
      fsOps().unlinkat(dirfd, name, st.isDirectory());
  } finally {
    closeSync(dirfd);
  }
}
