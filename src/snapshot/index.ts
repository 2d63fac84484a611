export type { Mount, SnapshotInfo, SnapshotKind, Snapshotter, SnapshotterName, Usage } from './snapshotter.js';
export { OverlaySnapshotter } from './overlay.js';
export { NativeSnapshotter } from './native-snapshotter.js';
export { allSnapshotters, openSnapshotter, parseSnapshotterName } from './choose.js';
export { MOUNT_DATA_LIMIT, mountDataSize } from './mount.js';
export { writeLayer, type WriteLayerOptions, type WrittenLayer } from './differ.js';
export { applyLayer } from './applier.js';
export { LayeredView, type Located } from './view.js';
export {
  LAYER_COMPRESSIONS,
  compressionLevel,
  createCompressor,
  createDecompressor,
  layerMediaType,
  parseLayerCompression,
  type StreamCompression,
} from './compression.js';
