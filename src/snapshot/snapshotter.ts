import type { Readable } from 'node:stream';
import type { Digest } from '../image/digest.js';
import type { LayerCompression } from '../image/media-types.js';

/**
 * A mount in OCI runtime-spec shape; `options` mixes flags ("rbind", "ro") and file-system data
 * ("lowerdir=…"). When `cwd` is set, paths in `options` are relative to it: the mounter must
 * chdir there before mount(2) — long overlay chains only fit in one page of mount data that way.
 */
export interface Mount {
  type: string;
  source: string;
  destination: string;
  options: string[];
  cwd?: string;
}

export type SnapshotKind = 'active' | 'view' | 'committed';

export interface SnapshotInfo {
  name: string;
  kind: SnapshotKind;
  parent?: string;
  /** ISO 8601. */
  created: string;
}

export interface Usage {
  /** Bytes of disk used (blocks, each inode counted once). */
  size: number;
  inodes: number;
}

/**
 * containerd's snapshotter model: snapshots are named by opaque keys; committed ones are
 * immutable and can be parents; active ones are writable; views are read-only.
 */
export interface Snapshotter {
  /** A new writable snapshot on top of the committed `parent` (or empty). */
  prepare(key: string, parent?: string): Promise<Mount[]>;
  /** A new read-only snapshot of the committed `parent` (or empty). */
  view(key: string, parent?: string): Promise<Mount[]>;
  /** The mounts of an existing active snapshot or view. */
  mounts(key: string): Promise<Mount[]>;
  /** Makes the active snapshot `key` an immutable one named `name`; `key` is gone afterwards. */
  commit(name: string, key: string): Promise<void>;
  /** Removes a snapshot that is no snapshot's parent. */
  remove(key: string): Promise<void>;
  /** Removes every snapshot (prune), including directories a crash left behind. */
  removeAll(): Promise<void>;
  stat(key: string): Promise<SnapshotInfo | undefined>;
  usage(key: string): Promise<Usage>;
  /** The directory holding what an active snapshot changed (or a committed one added): for the differ. */
  upperDir(key: string): string;
  /** The directories that make up a snapshot, top first: for reading its files without mounting. */
  layerDirs(key: string): string[];
  /** Unpacks a layer into a new committed snapshot `name` on `parent`. */
  applyLayerAsSnapshot(
    name: string,
    parent: string | undefined,
    layer: Readable,
    compression: LayerCompression,
    options?: { expectedDiffId?: Digest },
  ): Promise<{ diffId: Digest }>;
}
