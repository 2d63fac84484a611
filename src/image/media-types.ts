export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerManifestV1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerManifestV1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

const OCI_LAYER_OF_DOCKER: Readonly<Record<string, string>> = {
  [MediaType.dockerLayerGzip]: MediaType.ociLayerGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MediaType.ociLayer,
  'application/vnd.docker.image.rootfs.diff.tar.zstd': MediaType.ociLayerZstd,
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip':
    'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
};

/**
 * A layer's media type in an OCI manifest: Docker's inherited from a base become their OCI twins, as BuildKit writes
 * them.
 */
export function ociLayerMediaType(mediaType: string): string {
  return OCI_LAYER_OF_DOCKER[mediaType] ?? mediaType;
}

export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerManifestList;
}

export function isManifestMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ociManifest || mt === MediaType.dockerManifest;
}

export type LayerCompression = 'gzip' | 'zstd' | 'none';

export function layerCompressionOf(mediaType: string): LayerCompression {
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.tar.gzip')) return 'gzip';
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.tar.zstd')) return 'zstd';
  return 'none';
}
