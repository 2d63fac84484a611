import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { fsOps } from '../../src/snapshot/native.js';

/**
 * One line per entry under `root` with everything a layer must carry: type and mode, owner, size,
 * mtime (seconds), link target, device, xattrs, and hard-link identity (the first path of its inode).
 */
export async function describeTree(root: string): Promise<string[]> {
  const lines: string[] = [];
  const firstPathOfInode = new Map<bigint, string>();
  const visit = async (rel: string): Promise<void> => {
    for (const name of (await readdir(join(root, rel))).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      const abs = join(root, path);
      const st = await lstat(abs, { bigint: true });
      let hardlink = '';
      if (!st.isDirectory() && st.nlink > 1n) {
        hardlink = firstPathOfInode.get(st.ino) ?? path;
        firstPathOfInode.set(st.ino, hardlink);
      }
      const xattrs = fsOps()
        .llistxattr(abs)
        .sort()
        .map((key) => `${key}=${fsOps().lgetxattr(abs, key)?.toString('hex')}`);
      lines.push(
        [
          path,
          st.mode.toString(8),
          `${st.uid}:${st.gid}`,
          st.isFile() ? `size=${st.size}` : '',
          `mtime=${st.mtimeMs / 1000n}`,
          st.isSymbolicLink() ? `-> ${await readlink(abs)}` : '',
          st.isCharacterDevice() || st.isBlockDevice() ? `rdev=${st.rdev}` : '',
          xattrs.join(','),
          hardlink ? `inode-of=${hardlink}` : '',
        ].join(' '),
      );
      if (st.isDirectory()) await visit(path);
    }
  };
  await visit('');
  return lines;
}
