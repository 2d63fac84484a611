import { AlreadyExistsError, TcbuildError } from '../errors.js';
import { sha256 } from '../image/digest.js';
import type { Layer } from '../image/image.js';
import { layerCompressionOf } from '../image/media-types.js';
import type { Snapshotter } from '../snapshot/index.js';

/**
 * Unpacks an image's layers into snapshots named by their chain IDs (each at
 * most once per store: of two processes unpacking one at once, the first to
 * commit it wins), and returns the name of the top one (undefined for no
 * layers). `what` names the image in errors.
 */
export async function unpackImageLayers(snapshotter: Snapshotter, layers: Layer[], what: string): Promise<string | undefined> {
  let parent: string | undefined;
  let chainId: string | undefined;
  for (const layer of layers) {
    chainId = chainId === undefined ? layer.diffId : sha256(`${chainId} ${layer.diffId}`);
    const name = `layer-${chainId.slice('sha256:'.length)}`;
    if (!(await snapshotter.stat(name))) {
      await snapshotter
        .applyLayerAsSnapshot(name, parent, await layer.open(), layerCompressionOf(layer.descriptor.mediaType), { expectedDiffId: layer.diffId })
        .catch((err: unknown) => {
          if (err instanceof AlreadyExistsError) return; // another build on this store unpacked it meanwhile
          throw new TcbuildError(`cannot unpack layer ${layer.descriptor.digest} of ${what}: ${err instanceof Error ? err.message : String(err)}`);
        });
    }
    parent = name;
  }
  return parent;
}
