import type { Readable } from 'node:stream';
import type { Digest } from './digest.js';
import type { Descriptor, ImageConfig, Manifest } from './types.js';

/** One layer of an image: `open()` yields the compressed bytes, verified against `digest` as they stream. */
export interface Layer {
  readonly descriptor: Descriptor;
  readonly diffId: Digest;
  open(): Promise<Readable>;
}

/** Every source (registry, store, archive, build result) yields this; every sink takes it. */
export interface Image {
  readonly descriptor: Descriptor;
  manifest(): Promise<Manifest>;
  config(): Promise<ImageConfig>;
  layers(): Promise<Layer[]>;
  /** The raw bytes of the manifest and config, exactly as stored (their digests are of these bytes). */
  rawManifest(): Promise<Buffer>;
  rawConfig(): Promise<Buffer>;
}

export interface ImageIndex {
  readonly descriptor: Descriptor;
  rawIndex(): Promise<Buffer>;
  manifests(): Promise<Descriptor[]>;
  image(descriptor: Descriptor): Promise<Image>;
}

export type ImageOrIndex = { kind: 'image'; image: Image } | { kind: 'index'; index: ImageIndex };
