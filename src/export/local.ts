import { chmod, copyFile, lchown, lutimes, mkdir, readlink, rm, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { makeDirectories } from '../content/make-directories.js';
import { cannotWrite } from '../errors.js';
import type { LayeredView } from '../snapshot/index.js';
import { copyFileCapabilities } from '../snapshot/xattrs.js';

/**
 * `-o type=local,dest=DIR`: writes the image's final filesystem (the merged view of its
 * snapshot) into DIR — files, directories and symlinks with modes, owners, times and file capabilities.
 */
export async function exportRootfs(view: LayeredView, dest: string): Promise<void> {
  await makeDirectories(dest).catch((err: unknown) => {
    throw cannotWrite(dest, err);
  });
  const visit = async (path: string, target: string): Promise<void> => {
    for (const name of view.readdir(path).sort()) {
      const from = posix.join(path, name);
      const to = join(target, name);
      const st = view.lstat(from)!;
      await rm(to, { recursive: true, force: true });
      if (st.isDirectory()) {
        await mkdir(to);
        await visit(from, to);
        await chmod(to, st.mode & 0o7777);
      } else if (st.isSymbolicLink()) {
        await symlink(await readlink(view.hostPath(from)!), to);
      } else if (st.isFile()) {
        await copyFile(view.hostPath(from)!, to);
        await chmod(to, st.mode & 0o7777);
      } else {
        continue;
      }
      await lchown(to, st.uid, st.gid).catch(() => undefined);
      if (st.isFile()) keepCapabilities(view.hostPath(from)!, to);
      await lutimes(to, st.atime, st.mtime);
    }
  };
  await visit('/', dest);
}

/** After the owner, which clears them; an unprivileged export cannot set them and goes without. */
function keepCapabilities(from: string, to: string): void {
  try {
    copyFileCapabilities(from, to);
  } catch {
    // EPERM: only a privileged process may set security.capability
  }
}
