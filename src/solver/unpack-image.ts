import { AlreadyExistsError, messageOf, TcbuildError } from '../errors.js';
import { sha256, type Digest } from '../image/digest.js';
import type { Layer } from '../image/image.js';
import { layerCompressionOf } from '../image/media-types.js';
import type { LayerDiffer, StepSnapshotter } from './snapshots.js';

/**
 * The snapshots an image's layers are unpacked into, bottom first: `layer-<chain ID>` (the OCI
 * ChainID of the layers up to it). Prune keeps a named image's snapshots by these names.
 */
export function baseSnapshotNames(diffIds: readonly Digest[]): string[] {
  let chainId: Digest | undefined;
  return diffIds.map((diffId) => {
    chainId = chainId === undefined ? diffId : sha256(`${chainId} ${diffId}`);
    return `layer-${chainId.slice('sha256:'.length)}`;
  });
}

/**
 * Unpacks an image's layers into the snapshots of baseSnapshotNames (each at most once per store:
 * of two processes unpacking one at once, the first to commit it wins), and returns the name of
 * the top one (undefined for no layers). `what` names the image in errors.
 */
export async function unpackImageLayers(
  snapshotter: Pick<StepSnapshotter, 'stat'>,
  differ: Pick<LayerDiffer, 'applyLayerAsSnapshot'>,
  layers: Layer[],
  what: string,
): Promise<string | undefined> {
  const names = baseSnapshotNames(layers.map((layer) => layer.diffId));
  let parent: string | undefined;
  for (const [i, layer] of layers.entries()) {
    const name = names[i]!;
    if (!(await snapshotter.stat(name))) {
      const compression = layerCompressionOf(layer.descriptor.mediaType);
      await differ
        .applyLayerAsSnapshot(name, parent, await layer.open(), compression, { expectedDiffId: layer.diffId })
        .catch((err: unknown) => {
          if (err instanceof AlreadyExistsError) return; // another build on this store unpacked it meanwhile
          throw new TcbuildError(`cannot unpack layer ${layer.descriptor.digest} of ${what}: ${messageOf(err)}`);
        });
    }
    parent = name;
  }
  return parent;
}
