import type { Readable } from 'node:stream';
import { TcbuildError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { Image, ImageIndex, Layer } from '../image/image.js';
import { isManifestMediaType } from '../image/media-types.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../image/types.js';
import { openBlob, readBlob } from './blobs.js';
import { fetchManifest } from './manifest.js';
import type { RemoteRepository } from './repository.js';

/** Image configs are small JSON documents; refuse anything absurd rather than buffer it. */
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

function parseJson<T>(raw: Buffer, what: string): T {
  try {
    return JSON.parse(raw.toString('utf8')) as T;
  } catch {
    throw new TcbuildError(`${what} is not valid JSON`);
  }
}

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
    return parseJson<Manifest>(await this.rawManifest(), `the manifest ${this.descriptor.digest} of ${this.repository.display}`);
  }

  async rawConfig(): Promise<Buffer> {
    const config = (await this.manifest()).config;
    this.rawConfigP ??= readBlob(this.repository, config, MAX_CONFIG_BYTES);
    return this.rawConfigP;
  }

  async config(): Promise<ImageConfig> {
    return parseJson<ImageConfig>(await this.rawConfig(), `the config of ${this.repository.display}@${this.descriptor.digest}`);
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
    return parseJson<Index>(this.raw, `the index ${this.descriptor.digest} of ${this.repository.display}`).manifests ?? [];
  }

  async image(descriptor: Descriptor): Promise<Image> {
    if (!isManifestMediaType(descriptor.mediaType)) {
      throw new TcbuildError(`${this.repository.display}@${descriptor.digest} is a ${descriptor.mediaType}, not an image manifest; nested indexes are not supported`);
    }
    return new RemoteImage(this.repository, descriptor);
  }
}
