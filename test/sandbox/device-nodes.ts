// Device nodes a hostile base layer could ship, for the sandbox and e2e device tests.
import { readFileSync } from 'node:fs';

/** The first whole disk of the host, "major minor", from /proc/partitions. */
export function hostDisk(): [number, number] {
  const line = readFileSync('/proc/partitions', 'utf8')
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .find((f) => f.length === 4 && /^\d+$/.test(f[0]!) && !/^(loop|ram|zram)/.test(f[3]!));
  return line ? [Number(line[0]), Number(line[1])] : [8, 0];
}

/** Nodes a hostile base layer could ship: [name, type, major, minor]. */
export const DENIED_NODES: [string, 'c' | 'b', number, number][] = [
  ['mem', 'c', 1, 1],
  ['kmem', 'c', 1, 2],
  ['port', 'c', 1, 4],
  ['kmsg', 'c', 1, 11],
  ['tty1', 'c', 4, 1],
  ['fuse', 'c', 10, 229],
  ['loop0', 'b', 7, 0],
  ['disk', 'b', ...hostDisk()],
];
