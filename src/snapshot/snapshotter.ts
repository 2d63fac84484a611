import type { Readable } from 'node:stream';
import type { Digest } from '../image/digest.js';
import type { LayerCompression } from '../image/media-types.js';
import type { ContentStore } from '../content/store.js';
import type { WriteLayerOptions, WrittenLayer } from './differ.js';

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
  /**
   * Sources the mounter opens itself, below their roots with openat2 (RESOLVE_BENEATH, no
   * symlinks), and mounts by fd: a bind's source (then `source` is unused), or an overlay's lower
   * layers, top first (then `options` name no lowerdir). A path checked before is thus never
   * resolved again by the kernel.
   */
  beneath?: PathBeneath[];
}

/** A path below a host directory (`root` is trusted, `path` is not). */
export interface PathBeneath {
  root: string;
  path: string;
}

export type SnapshotKind = 'active' | 'view' | 'committed';

export type SnapshotterName = 'overlay' | 'native';

export interface SnapshotInfo {
  name: string;
  kind: SnapshotKind;
  parent?: string;
  /** ISO 8601. */
  created: string;
  /** Committed snapshots: bytes of disk their own files take. */
  size?: number;
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
  readonly name: SnapshotterName;
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
  stat(key: string): Promise<SnapshotInfo | undefined>;
  list(): Promise<SnapshotInfo[]>;
  /**
   * Removes the records of every committed snapshot that is neither in `keep` nor below one that
   * is; active snapshots and views stay (their owners use them). Returns how many went, their
   * size, and `removeFiles` to delete their directories with (slow: call it once locks are let go).
   */
  prune(keep: ReadonlySet<string>): Promise<{ removed: number; bytes: number; removeFiles(): Promise<void> }>;
  /**
   * Start-up recovery: removes active snapshots and views whose process died, and — when
   * `othersAlive` is false — directories a crash left without a record.
   */
  recover(othersAlive: boolean): Promise<number>;
  /** Told of every snapshot this process uses — before it looks for it — so other processes' GC keeps it. */
  lease: { holdSnapshot(key: string): Promise<void> } | undefined;
  usage(key: string): Promise<Usage>;
  /**
   * Where an active snapshot's files are written without mounting: overlay's upper dir (only what
   * changed) or the native snapshotter's whole copy. Read the snapshot through layerDirs().
   */
  upperDir(key: string): string;
  /** The directories that make up a snapshot, top first: for reading its files without mounting. */
  layerDirs(key: string): string[];
  /** The layer of what the active snapshot `key` changed on its parent, into `store`. */
  writeLayer(key: string, store: ContentStore, options: WriteLayerOptions): Promise<WrittenLayer>;
  /** Unpacks a layer into a new committed snapshot `name` on `parent`. */
  applyLayerAsSnapshot(
    name: string,
    parent: string | undefined,
    layer: Readable,
    compression: LayerCompression,
    options?: { expectedDiffId?: Digest },
  ): Promise<{ diffId: Digest }>;
}
