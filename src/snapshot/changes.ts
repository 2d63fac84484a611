import { lstatSync, readdirSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { isOpaqueDir, isOverlayWhiteout } from './whiteout.js';

/** One change in a directory, as the differ turns it into layer entries. */
export interface Change {
  /** The entry's name in its directory (unused for the opaque marker). */
  name: string;
  /** An entry added or modified (a directory is walked in turn), a deletion, or "hide all below". */
  kind: 'entry' | 'whiteout' | 'opaque';
  /** The changed file (for a marker: a file whose mtime it takes). */
  absPath: string;
  stat: BigIntStats;
}

/** The changes in a directory ('' or a relative path ending in '/') of a snapshot, in any order. */
export type ChangeSource = (relDir: string) => Promise<Change[]>;

/** An overlay upper dir holds exactly the changes: whiteouts are 0/0 devices, opaque dirs have an xattr. */
export function upperDirChanges(root: string): ChangeSource {
  return async (relDir) => {
    const absDir = join(root, relDir);
    // Synchronous calls: a walk of many small entries is faster without thread-pool round trips.
    const changes = readdirSync(absDir).map((name): Change => {
      const absPath = join(absDir, name);
      const stat = lstatSync(absPath, { bigint: true });
      return { name, kind: isOverlayWhiteout(stat) ? 'whiteout' : 'entry', absPath, stat };
    });
    if (isOpaqueDir(absDir))
      changes.push({ name: '', kind: 'opaque', absPath: absDir, stat: lstatSync(absDir, { bigint: true }) });
    return changes;
  };
}
