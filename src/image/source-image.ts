import { InvalidInputError } from '../errors.js';
import { readLimited, tooLarge } from '../stream/read-limited.js';
import type { ImageSource } from './image-source.js';
import type { Image, ImageBlob, ImageIndex, ImageOrIndex, Layer } from './image.js';
import { isIndexMediaType, isManifestMediaType } from './media-types.js';
import { MAX_CONFIG_BYTES, MAX_MANIFEST_BYTES, parseConfig, parseIndex, parseManifest } from './parse.js';
import type { Descriptor, ImageConfig, Index, Manifest } from './types.js';

/**
 * The one implementation of Image and ImageIndex: every source is an ImageSource, and its
 * documents are read, bounded, parsed and checked here, once each (go-containerregistry's
 * `partial` package has this shape).
 */

interface Document<T> {
  raw: Buffer;
  value: T;
}

type Kind = 'manifest' | 'index' | 'config';

/** A document of the source, refused before it is read when its descriptor says it is too big to be one. */
async function readDocument<T>(
  source: ImageSource,
  d: Descriptor,
  kind: Kind,
  parse: (raw: Buffer, what: string) => T,
  prefetched?: Buffer,
): Promise<Document<T>> {
  const what = `the ${kind} ${d.digest} of ${source.what}`;
  const limit = kind === 'config' ? MAX_CONFIG_BYTES : MAX_MANIFEST_BYTES;
  if (d.size > limit) throw tooLarge(what, limit, d.size);
  if (prefetched) return { raw: prefetched, value: parse(prefetched, what) };
  const raw =
    kind !== 'config' && source.readManifest
      ? await source.readManifest(d, limit)
      : await readLimited(await source.open(d), limit, what);
  return { raw, value: parse(raw, what) };
}

export class SourceImage implements Image {
  private manifestP: Promise<Document<Manifest>> | undefined;
  private configP: Promise<Document<ImageConfig>> | undefined;

  /** `prefetched`: the manifest's bytes when the source has already read (and verified) them. */
  constructor(
    private readonly source: ImageSource,
    readonly descriptor: Descriptor,
    private readonly prefetched?: Buffer,
  ) {}

  get origin(): ImageSource['origin'] {
    return this.source.origin;
  }

  private readManifest(): Promise<Document<Manifest>> {
    this.manifestP ??= readDocument(this.source, this.descriptor, 'manifest', parseManifest, this.prefetched);
    return this.manifestP;
  }

  private async readConfig(): Promise<Document<ImageConfig>> {
    const { config } = await this.manifest();
    this.configP ??= readDocument(this.source, config, 'config', parseConfig);
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
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new InvalidInputError(
        `the image ${this.descriptor.digest} of ${this.source.what} is inconsistent: ` +
          `${manifest.layers.length} layers but ${diffIds.length} diff_ids in its config`,
        { hint: 'the source is damaged or hostile; rebuild or re-push the image' },
      );
    }
    return manifest.layers.map((descriptor, i) => ({ ...this.blob(descriptor), diffId: diffIds[i]! }));
  }

  blob(descriptor: Descriptor): ImageBlob {
    const { source } = this;
    return { descriptor, origin: source.origin, open: () => source.open(descriptor) };
  }
}

export class SourceIndex implements ImageIndex {
  private indexP: Promise<Document<Index>> | undefined;

  constructor(
    private readonly source: ImageSource,
    readonly descriptor: Descriptor,
    private readonly prefetched?: Buffer,
  ) {}

  private readIndex(): Promise<Document<Index>> {
    const parse = (raw: Buffer, at: string) => parseIndex(raw, at);
    this.indexP ??= readDocument(this.source, this.descriptor, 'index', parse, this.prefetched);
    return this.indexP;
  }

  async rawIndex(): Promise<Buffer> {
    return (await this.readIndex()).raw;
  }

  async manifests(): Promise<Descriptor[]> {
    return (await this.readIndex()).value.manifests;
  }

  async image(descriptor: Descriptor): Promise<Image> {
    if (!isManifestMediaType(descriptor.mediaType)) {
      throw new InvalidInputError(
        `${descriptor.digest} of ${this.source.what} is a ${descriptor.mediaType}, not an image manifest; ` +
          'nested indexes are not supported',
      );
    }
    return new SourceImage(this.source, descriptor);
  }
}

/** The image or index a descriptor names, read from `source` when asked for; `raw`: its bytes, if already read. */
export function openImageOrIndex(source: ImageSource, descriptor: Descriptor, raw?: Buffer): ImageOrIndex {
  if (isIndexMediaType(descriptor.mediaType)) return { kind: 'index', index: new SourceIndex(source, descriptor, raw) };
  if (isManifestMediaType(descriptor.mediaType)) {
    return { kind: 'image', image: new SourceImage(source, descriptor, raw) };
  }
  const { digest, mediaType } = descriptor;
  throw new InvalidInputError(`${digest} of ${source.what} is a ${mediaType}, not an image manifest or index`);
}
