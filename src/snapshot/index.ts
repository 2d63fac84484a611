export type { Mount, SnapshotInfo, SnapshotKind, Snapshotter, Usage } from './snapshotter.js';
export { OverlaySnapshotter } from './overlay.js';
export { MOUNT_DATA_LIMIT, mountDataSize } from './mount.js';
export { writeLayer, type WriteLayerOptions, type WrittenLayer } from './differ.js';
export { applyLayer } from './applier.js';
export { LayeredView } from './view.js';
