import { gzipSync } from 'node:zlib';
import { pack } from 'tar-stream';
import type { ContentStore } from '../../src/content/store.js';
import { storeSource } from '../../src/content/store-image.js';
import type { Image, ImageIndex } from '../../src/image/image.js';
import { SourceImage, SourceIndex } from '../../src/image/source-image.js';
import { sha256 } from '../../src/image/digest.js';
import { MediaType } from '../../src/image/media-types.js';
import type { Descriptor, ImageConfig, Index, Manifest, Platform } from '../../src/image/types.js';

async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const archive = pack();
  for (const [name, content] of Object.entries(files).sort(([a], [b]) => a.localeCompare(b))) {
    archive.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function putJson(store: ContentStore, mediaType: string, value: unknown): Promise<Descriptor> {
  const raw = Buffer.from(JSON.stringify(value));
  const { digest, size } = await store.writeBuffer(raw);
  return { mediaType, digest, size };
}

/** A one-layer OCI image (gzip'd tar of `files`) written into `store`. */
export async function buildTestImage(
  store: ContentStore,
  files: Record<string, string>,
  platform: Platform = { os: 'linux', architecture: 'amd64' },
): Promise<Image> {
  const tar = await tarOf(files);
  const gz = gzipSync(tar);
  const layer = await store.writeBuffer(gz);
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
  };
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: await putJson(store, MediaType.ociConfig, config),
    layers: [{ mediaType: MediaType.ociLayerGzip, ...layer }],
  };
  return new SourceImage(storeSource(store), await putJson(store, MediaType.ociManifest, manifest));
}

/** An OCI index over images already in `store`, each entry carrying its platform. */
export async function buildTestIndex(
  store: ContentStore,
  images: { image: Image; platform: Platform }[],
): Promise<ImageIndex> {
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: images.map(({ image, platform }) => ({ ...image.descriptor, platform })),
  };
  return new SourceIndex(storeSource(store), await putJson(store, MediaType.ociIndex, index));
}
