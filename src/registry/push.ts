import { Readable } from 'node:stream';
import { TcbuildError } from '../errors.js';
import { sha256, type Digest } from '../image/digest.js';
import type { Image, ImageOrIndex } from '../image/image.js';
import { isManifestMediaType } from '../image/media-types.js';
import type { Descriptor, Manifest } from '../image/types.js';
import { blobExists } from './blobs.js';
import type { TransferContext } from './context.js';
import { putManifest } from './manifest.js';
import { addFallbackReferrer } from './referrers.js';
import { RemoteImage, RemoteLayer } from './remote-image.js';
import type { RemoteRepository } from './repository.js';
import { mountBlob, uploadBlob } from './upload.js';

interface BlobSource {
  descriptor: Descriptor;
  open(): Promise<Readable>;
  /** A repository on the target's registry that already holds the blob. */
  mountFrom?: string;
}

/** Pushes blobs at most once per digest, skipping what the registry has and mounting what it holds elsewhere. */
class BlobPusher {
  private readonly pushed = new Map<Digest, Promise<void>>();

  constructor(
    private readonly target: RemoteRepository,
    private readonly ctx: TransferContext,
  ) {}

  push(blob: BlobSource): Promise<void> {
    let pending = this.pushed.get(blob.descriptor.digest);
    if (!pending) {
      pending = this.ctx.limit(() => this.transfer(blob));
      this.pushed.set(blob.descriptor.digest, pending);
    }
    return pending;
  }

  private async transfer({ descriptor, open, mountFrom }: BlobSource): Promise<void> {
    const { digest, size } = descriptor;
    const event = { ref: this.target.display, digest };
    if (await blobExists(this.target, digest)) return this.ctx.progress({ kind: 'blob-skip', ...event });
    let session: URL | undefined;
    if (mountFrom !== undefined) {
      // A refused mount (no pull access to the source, say) falls back to an upload.
      const mounted = await mountBlob(this.target, digest, mountFrom).then((s) => s ?? ('mounted' as const), () => undefined);
      if (mounted === 'mounted') return this.ctx.progress({ kind: 'blob-mount', ...event });
      session = mounted;
    }
    await uploadBlob(this.target, descriptor, open, this.ctx.upload, session);
    this.ctx.progress({ kind: 'blob-upload', ...event, bytes: size });
  }
}

/** A source claiming a digest must hold bytes with that digest: push nothing otherwise. */
function checkedRaw(raw: Buffer, descriptor: Descriptor, what: string): Buffer {
  const digest = sha256(raw);
  if (digest !== descriptor.digest || raw.length !== descriptor.size) {
    throw new TcbuildError(`the ${what} to push is inconsistent: its descriptor says ${descriptor.digest} (${descriptor.size} bytes), its content is ${digest} (${raw.length} bytes)`);
  }
  return raw;
}

/** The repository to mount a blob from: one on the target's registry that the source read it from. */
function mountSource(source: unknown, target: RemoteRepository): { mountFrom?: string } {
  const origin = source instanceof RemoteLayer ? source.origin : source instanceof RemoteImage ? source.repository : undefined;
  return origin && origin.transport.registry === target.transport.registry && origin.name !== target.name ? { mountFrom: origin.name } : {};
}

async function pushImage(target: RemoteRepository, image: Image, reference: string, blobs: BlobPusher, ctx: TransferContext): Promise<Descriptor> {
  const rawManifest = checkedRaw(await image.rawManifest(), image.descriptor, 'manifest');
  const [manifest, layers, rawConfig] = await Promise.all([image.manifest(), image.layers(), image.rawConfig()]);
  checkedRaw(rawConfig, manifest.config, 'image config');
  await Promise.all([
    blobs.push({ descriptor: manifest.config, open: async () => Readable.from([rawConfig]), ...mountSource(image, target) }),
    ...layers.map((layer) => blobs.push({ descriptor: layer.descriptor, open: () => layer.open(), ...mountSource(layer, target) })),
  ]);
  const { ociSubject } = await putManifest(target, reference, image.descriptor.mediaType, rawManifest);
  const { subject, artifactType } = manifest as Manifest & { subject?: Descriptor; artifactType?: string };
  if (subject && !ociSubject) {
    const { mediaType, digest, size } = image.descriptor;
    const annotations = manifest.annotations ? { annotations: manifest.annotations } : {};
    await addFallbackReferrer(target, subject.digest, { mediaType, digest, size, artifactType: artifactType ?? manifest.config.mediaType, ...annotations });
  }
  ctx.progress({ kind: 'manifest', ref: target.display, digest: image.descriptor.digest, bytes: rawManifest.length });
  return image.descriptor;
}

/**
 * Pushes an image (blobs, then its manifest) or an index (each image by digest, then the index)
 * under `tag`, or by digest when there is none. Returns the top-level descriptor.
 */
export async function pushImageOrIndex(target: RemoteRepository, tag: string | undefined, source: ImageOrIndex, ctx: TransferContext): Promise<Descriptor> {
  const blobs = new BlobPusher(target, ctx);
  const top = source.kind === 'image' ? source.image.descriptor : source.index.descriptor;
  const descriptor: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.size };
  if (source.kind === 'image') {
    await pushImage(target, source.image, tag ?? top.digest, blobs, ctx);
    return descriptor;
  }
  const { index } = source;
  const rawIndex = checkedRaw(await index.rawIndex(), top, 'index');
  const children = await index.manifests();
  const nested = children.find((d) => !isManifestMediaType(d.mediaType));
  if (nested) throw new TcbuildError(`cannot push ${target.display}: its index holds a ${nested.mediaType} (${nested.digest}); nested indexes are not supported`);
  await Promise.all(children.map(async (d) => pushImage(target, await index.image(d), d.digest, blobs, ctx)));
  await putManifest(target, tag ?? top.digest, top.mediaType, rawIndex);
  ctx.progress({ kind: 'manifest', ref: target.display, digest: top.digest, bytes: rawIndex.length });
  return descriptor;
}
