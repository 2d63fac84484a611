import type { Snapshotter } from '../snapshot/index.js';

/**
 * What the solver asks of a snapshotter, as containerd's core/snapshots: named snapshots and where
 * their files are, nothing about layers. `name` tells whether an upper dir holds only the changes.
 */
export type StepSnapshotter = Pick<
  Snapshotter,
  'name' | 'stat' | 'prepare' | 'commit' | 'remove' | 'upperDir' | 'layerDirs'
>;

/** Layers out of and into snapshots (containerd's diff.Comparer and diff.Applier), apart from the snapshots. */
export type LayerDiffer = Pick<Snapshotter, 'writeLayer' | 'applyLayerAsSnapshot'>;
