import type { Readable } from 'node:stream';
import { InvalidInputError } from '../errors.js';
import type { Image, ImageIndex, ImageOrIndex, Layer } from '../image/image.js';
import { isIndexMediaType, isManifestMediaType } from '../image/media-types.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseConfig, parseIndex, parseManifest } from '../image/parse.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../image/types.js';
import { readLimited, tooLarge } from '../registry/transport.js';

/** Opens blobs of an untrusted source (an archive, a layout), each verified against its descriptor as it streams. */
export interface BlobReader {
  /** Names the source in messages: "oci-archive:/tmp/app.tar". */
  readonly what: string;
  open(descriptor: Descriptor): Promise<Readable>;
}

/** A manifest, index or config of the source, refused before it is opened when its descriptor says it is too big to be one. */
async function readJson<T>(blobs: BlobReader, d: Descriptor, limit: number, parse: (raw: Buffer, what: string) => T): Promise<{ raw: Buffer; value: T }> {
  const what = `${d.digest} of ${blobs.what}`;
  if (d.size > limit) throw tooLarge(what, limit, d.size);
  const raw = await readLimited(await blobs.open(d), limit, what);
  return { raw, value: parse(raw, what) };
}

/** An image whose manifest, config and layers come from a BlobReader, read once and kept. */
export class BlobImage implements Image {
  private manifestP: Promise<{ raw: Buffer; value: Manifest }> | undefined;
  private configP: Promise<{ raw: Buffer; value: ImageConfig }> | undefined;

  constructor(
    private readonly blobs: BlobReader,
    readonly descriptor: Descriptor,
  ) {}

  private readManifest(): Promise<{ raw: Buffer; value: Manifest }> {
    this.manifestP ??= readJson(this.blobs, this.descriptor, MAX_MANIFEST_BYTES, parseManifest);
    return this.manifestP;
  }

  private async readConfig(): Promise<{ raw: Buffer; value: ImageConfig }> {
    const config = (await this.manifest()).config;
    this.configP ??= readJson(this.blobs, config, MAX_CONFIG_BYTES, parseConfig);
    return this.configP;
  }

  async rawManifest(): Promise<Buffer> {
    return (await this.readManifest()).raw;
  }

  async manifest(): Promise<Manifest> {
    return (await this.readManifest()).value;
  }

  async rawConfig(): Promise<Buffer> {
    return (await this.readConfig()).raw;
  }

  async config(): Promise<ImageConfig> {
    return (await this.readConfig()).value;
  }

  async layers(): Promise<Layer[]> {
    const [manifest, config] = await Promise.all([this.manifest(), this.config()]);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new InvalidInputError(`image ${this.descriptor.digest} of ${this.blobs.what} is inconsistent: ${manifest.layers.length} layers but ${diffIds.length} diff_ids`);
    }
    return manifest.layers.map((descriptor, i) => ({ descriptor, diffId: diffIds[i]!, open: () => this.blobs.open(descriptor) }));
  }
}

export class BlobIndex implements ImageIndex {
  private readonly indexP: Promise<{ raw: Buffer; value: Index }>;

  constructor(
    private readonly blobs: BlobReader,
    readonly descriptor: Descriptor,
  ) {
    this.indexP = readJson(blobs, descriptor, MAX_MANIFEST_BYTES, (raw, what) => parseIndex(raw, what));
    this.indexP.catch(() => undefined);
  }

  async rawIndex(): Promise<Buffer> {
    return (await this.indexP).raw;
  }

  async manifests(): Promise<Descriptor[]> {
    return (await this.indexP).value.manifests;
  }

  async image(descriptor: Descriptor): Promise<Image> {
    return new BlobImage(this.blobs, descriptor);
  }
}

export function blobImageOrIndex(blobs: BlobReader, descriptor: Descriptor): ImageOrIndex {
  if (isIndexMediaType(descriptor.mediaType)) return { kind: 'index', index: new BlobIndex(blobs, descriptor) };
  if (isManifestMediaType(descriptor.mediaType)) return { kind: 'image', image: new BlobImage(blobs, descriptor) };
  throw new InvalidInputError(`${descriptor.digest} of ${blobs.what} is a ${descriptor.mediaType}, not an image manifest or index`);
}
