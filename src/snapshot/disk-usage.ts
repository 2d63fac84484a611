import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Usage } from './snapshotter.js';

/** Like `du`: disk blocks and inodes under `dir`, each inode counted once however many links it has. */
export async function diskUsage(dir: string): Promise<Usage> {
  const seen = new Set<bigint>();
  let size = 0n;
  const visit = async (path: string): Promise<void> => {
    const stat = await lstat(path, { bigint: true });
    if (seen.has(stat.ino)) return;
    seen.add(stat.ino);
    size += stat.blocks * 512n;
    if (stat.isDirectory()) {
      for (const name of await readdir(path)) await visit(join(path, name));
    }
  };
  await visit(dir);
  return { size: Number(size), inodes: seen.size };
}
