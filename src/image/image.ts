import type { Readable } from 'node:stream';
import type { Digest } from './digest.js';
import type { Descriptor, ImageConfig, Manifest } from './types.js';

/** The repository a blob was read from, so that a push to the same registry mounts it instead of copying. */
export interface BlobOrigin {
  registry: string;
  repository: string;
}

/** A blob to read: its descriptor, and its bytes, checked against the descriptor as they stream. */
export interface ImageBlob {
  readonly descriptor: Descriptor;
  open(): Promise<Readable>;
  readonly origin?: BlobOrigin | undefined;
}

/** One layer of an image: a blob of compressed tar, with the digest of the tar itself. */
export interface Layer extends ImageBlob {
  readonly diffId: Digest;
}

/** Every source (registry, store, layout, archive, build result) yields this; every sink takes it. */
export interface Image {
  readonly descriptor: Descriptor;
  readonly origin?: BlobOrigin | undefined;
  manifest(): Promise<Manifest>;
  config(): Promise<ImageConfig>;
  layers(): Promise<Layer[]>;
  /** The raw bytes of the manifest and config, exactly as stored (their digests are of these bytes). */
  rawManifest(): Promise<Buffer>;
  rawConfig(): Promise<Buffer>;
  /** A blob the manifest names, to read from where the image is. */
  blob(descriptor: Descriptor): ImageBlob;
}

export interface ImageIndex {
  readonly descriptor: Descriptor;
  rawIndex(): Promise<Buffer>;
  manifests(): Promise<Descriptor[]>;
  image(descriptor: Descriptor): Promise<Image>;
}

export type ImageOrIndex = { kind: 'image'; image: Image } | { kind: 'index'; index: ImageIndex };

export function topDescriptor(source: ImageOrIndex): Descriptor {
  return source.kind === 'image' ? source.image.descriptor : source.index.descriptor;
}
