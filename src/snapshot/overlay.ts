import type { ContentStore } from '../content/store.js';
import { InvalidInputError } from '../errors.js';
import { writeLayer, type WriteLayerOptions, type WrittenLayer } from './differ.js';
import { DirSnapshotter, chainOf, existing } from './dir-snapshotter.js';
import type { Snapshots } from './metadata.js';
import { bindMount, overlayMount } from './mount.js';
import type { Mount } from './snapshotter.js';

/**
 * Snapshots as overlayfs layers: an active snapshot's fs dir is the upper dir of an overlay of
 * its parents' fs dirs, so it holds exactly what changed, and the differ walks only that.
 */
export class OverlaySnapshotter extends DirSnapshotter {
  readonly name = 'overlay';
  protected readonly whiteouts = 'overlay';

  layerDirs(key: string): string[] {
    const snapshots = this.metadata.read();
    const chain = chainOf(snapshots, key);
    return (existing(snapshots, key).kind === 'view' ? chain.slice(1) : chain).map((r) => this.fsDir(r));
  }

  writeLayer(key: string, store: ContentStore, options: WriteLayerOptions): Promise<WrittenLayer> {
    return writeLayer(this.upperDir(key), store, options);
  }

  protected mountsOf(snapshots: Snapshots, key: string): Mount[] {
    const [record, ...parents] = chainOf(snapshots, key);
    if (record!.kind === 'committed')
      throw new InvalidInputError(`snapshot "${key}" is committed: make a view of it to mount it`);
    const lowers = parents.map((r) => `${r.id}/fs`);
    if (record!.kind === 'active') {
      if (lowers.length === 0) return [bindMount(this.fsDir(record!), false)];
      return [
        overlayMount({
          base: this.snapshotsDir,
          lowers,
          upper: { upper: `${record!.id}/fs`, work: `${record!.id}/work` },
        }),
      ];
    }
    if (parents.length <= 1) return [bindMount(this.fsDir(parents[0] ?? record!), true)];
    return [overlayMount({ base: this.snapshotsDir, lowers })];
  }
}
