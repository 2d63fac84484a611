import type { Readable } from 'node:stream';
import { TcbuildError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { Image, ImageIndex, Layer } from '../image/image.js';
import { isManifestMediaType } from '../image/media-types.js';
import { MAX_CONFIG_BYTES, parseConfig, parseIndex, parseManifest } from '../image/parse.js';
import type { Descriptor, ImageConfig, Manifest } from '../image/types.js';
import { blobName, openBlob, readBlob } from './blobs.js';
import { fetchManifest } from './manifest.js';
import type { RemoteRepository } from './repository.js';

/** A layer read from a registry; `origin` lets a push to the same registry mount it instead of copying. */
export class RemoteLayer implements Layer {
  constructor(
    readonly origin: RemoteRepository,
    readonly descriptor: Descriptor,
    readonly diffId: Digest,
  ) {}

  open(): Promise<Readable> {
    return openBlob(this.origin, this.descriptor);
  }
}

/** An image in a registry, read lazily: nothing is fetched until asked for, then kept. */
export class RemoteImage implements Image {
  private rawManifestP: Promise<Buffer> | undefined;
  private rawConfigP: Promise<Buffer> | undefined;

  constructor(
    readonly repository: RemoteRepository,
    readonly descriptor: Descriptor,
    rawManifest?: Buffer,
  ) {
    if (rawManifest) this.rawManifestP = Promise.resolve(rawManifest);
  }

  rawManifest(): Promise<Buffer> {
    this.rawManifestP ??= fetchManifest(this.repository, this.descriptor.digest, this.descriptor).then((m) => m.raw);
    return this.rawManifestP;
  }

  async manifest(): Promise<Manifest> {
    return parseManifest(await this.rawManifest(), `the manifest ${this.descriptor.digest} of ${this.repository.display}`);
  }

  async rawConfig(): Promise<Buffer> {
    const config = (await this.manifest()).config;
    this.rawConfigP ??= readBlob(this.repository, config, MAX_CONFIG_BYTES, 'config');
    return this.rawConfigP;
  }

  async config(): Promise<ImageConfig> {
    const { digest } = (await this.manifest()).config;
    return parseConfig(await this.rawConfig(), `the config ${blobName(this.repository, digest)}`);
  }

  async layers(): Promise<Layer[]> {
    const [manifest, config] = await Promise.all([this.manifest(), this.config()]);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== manifest.layers.length) {
      throw new TcbuildError(
        `image ${this.repository.display}@${this.descriptor.digest} is inconsistent: ${manifest.layers.length} layers but ${diffIds.length} diff_ids in its config`,
      );
    }
    return manifest.layers.map((d, i) => new RemoteLayer(this.repository, d, diffIds[i]!));
  }
}

export class RemoteIndex implements ImageIndex {
  constructor(
    readonly repository: RemoteRepository,
    readonly descriptor: Descriptor,
    private readonly raw: Buffer,
  ) {}

  async rawIndex(): Promise<Buffer> {
    return this.raw;
  }

  async manifests(): Promise<Descriptor[]> {
    return parseIndex(this.raw, `the index ${this.descriptor.digest} of ${this.repository.display}`).manifests;
  }

  async image(descriptor: Descriptor): Promise<Image> {
    if (!isManifestMediaType(descriptor.mediaType)) {
      throw new TcbuildError(`${this.repository.display}@${descriptor.digest} is a ${descriptor.mediaType}, not an image manifest; nested indexes are not supported`);
    }
    return new RemoteImage(this.repository, descriptor);
  }
}
