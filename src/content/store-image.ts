import { NotFoundError, TcbuildError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { Image, ImageIndex, ImageOrIndex, Layer } from '../image/image.js';
import { isIndexMediaType, isManifestMediaType } from '../image/media-types.js';
import { parseConfig, parseIndex, parseManifest } from '../image/parse.js';
import type { Descriptor, ImageConfig, Manifest } from '../image/types.js';
import type { ContentStore } from './store.js';

/** An image or index whose blobs are all in a local content store. */
export async function storeImageOrIndex(blobs: ContentStore, descriptor: Descriptor): Promise<ImageOrIndex> {
  if (isIndexMediaType(descriptor.mediaType)) return { kind: 'index', index: new StoreIndex(blobs, descriptor) };
  if (isManifestMediaType(descriptor.mediaType)) return { kind: 'image', image: new StoreImage(blobs, descriptor) };
  throw new TcbuildError(`unsupported manifest media type "${descriptor.mediaType}" for ${descriptor.digest}`);
}

export class StoreImage implements Image {
  private manifestCache: Manifest | undefined;
  private configCache: ImageConfig | undefined;

  constructor(
    private readonly blobs: ContentStore,
    readonly descriptor: Descriptor,
  ) {}

  rawManifest(): Promise<Buffer> {
    return this.blobs.readBuffer(this.descriptor.digest);
  }

  async manifest(): Promise<Manifest> {
    this.manifestCache ??= parseManifest(await this.rawManifest(), `the stored manifest ${this.descriptor.digest}`);
    return this.manifestCache;
  }

  async rawConfig(): Promise<Buffer> {
    return this.blobs.readBuffer((await this.manifest()).config.digest);
  }

  async config(): Promise<ImageConfig> {
    this.configCache ??= parseConfig(await this.rawConfig(), `the stored config of image ${this.descriptor.digest}`);
    return this.configCache;
  }

  async layers(): Promise<Layer[]> {
    const [manifest, config] = [await this.manifest(), await this.config()];
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new TcbuildError(
        `image ${this.descriptor.digest} is inconsistent: ${manifest.layers.length} layers but ${diffIds.length} diff_ids in its config`,
      );
    }
    return manifest.layers.map((descriptor, i) => storeLayer(this.blobs, descriptor, diffIds[i]!));
  }
}

export function storeLayer(blobs: ContentStore, descriptor: Descriptor, diffId: Digest): Layer {
  return {
    descriptor,
    diffId,
    open: async () => {
      if (!(await blobs.has(descriptor.digest))) {
        throw new NotFoundError(`layer ${descriptor.digest} is missing from the local store; pull the image again`);
      }
      return blobs.read(descriptor.digest);
    },
  };
}

export class StoreIndex implements ImageIndex {
  constructor(
    private readonly blobs: ContentStore,
    readonly descriptor: Descriptor,
  ) {}

  rawIndex(): Promise<Buffer> {
    return this.blobs.readBuffer(this.descriptor.digest);
  }

  async manifests(): Promise<Descriptor[]> {
    return parseIndex(await this.rawIndex(), `the stored index ${this.descriptor.digest}`).manifests;
  }

  async image(descriptor: Descriptor): Promise<Image> {
    return new StoreImage(this.blobs, descriptor);
  }
}
