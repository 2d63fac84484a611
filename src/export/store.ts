import type { OciLayout } from '../content/layout.js';
import { canonicalJson } from '../graph/vertex.js';
import { MediaType, ociLayerMediaType } from '../image/media-types.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../image/types.js';
import type { LayerRecord } from '../solver/cache.js';

/** Writes an image's config and manifest next to its (already stored) layers. */
export async function writeImage(
  layout: OciLayout,
  config: ImageConfig,
  layers: LayerRecord[],
): Promise<{ manifest: Descriptor; config: Descriptor }> {
  const rawConfig = Buffer.from(canonicalJson(config));
  const configInfo = await layout.blobs.writeBuffer(rawConfig);
  const configDescriptor: Descriptor = {
    mediaType: MediaType.ociConfig,
    digest: configInfo.digest,
    size: configInfo.size,
  };
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: configDescriptor,
    layers: layers.map((l) => ({ ...l.descriptor, mediaType: ociLayerMediaType(l.descriptor.mediaType) })),
  };
  const rawManifest = Buffer.from(JSON.stringify(manifest));
  const manifestInfo = await layout.blobs.writeBuffer(rawManifest);
  const platform = {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
  };
  return {
    manifest: { mediaType: MediaType.ociManifest, digest: manifestInfo.digest, size: manifestInfo.size, platform },
    config: configDescriptor,
  };
}

/** Writes an OCI index over per-platform manifests already in the store. */
export async function writeIndex(layout: OciLayout, manifests: Descriptor[]): Promise<Descriptor> {
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests };
  const info = await layout.blobs.writeBuffer(Buffer.from(canonicalJson(index)));
  return { mediaType: MediaType.ociIndex, digest: info.digest, size: info.size };
}
