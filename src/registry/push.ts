import type { Digest } from '../image/digest.js';
import { imageContents, refuseNestedIndexes } from '../image/image-contents.js';
import { topDescriptor, type BlobOrigin, type Image, type ImageBlob, type ImageOrIndex } from '../image/image.js';
import type { Descriptor, Manifest } from '../image/types.js';
import { blobExists } from './blobs.js';
import type { TransferContext } from './context.js';
import { putManifest } from './manifest.js';
import { addFallbackReferrer } from './referrers.js';
import type { RemoteRepository } from './repository.js';
import { mountBlob, uploadBlob } from './upload.js';

/** The repository to mount a blob from: one on the target's registry that the source read it from. */
function mountSource(origin: BlobOrigin | undefined, target: RemoteRepository): string | undefined {
  const sameRegistry = origin?.registry === target.transport.registry;
  return sameRegistry && origin!.repository !== target.name ? origin!.repository : undefined;
}

/** Pushes blobs at most once per digest, skipping what the registry has and mounting what it holds elsewhere. */
class BlobPusher {
  private readonly pushed = new Map<Digest, Promise<void>>();

  constructor(
    private readonly target: RemoteRepository,
    private readonly ctx: TransferContext,
  ) {}

  push(blob: ImageBlob): Promise<void> {
    let pending = this.pushed.get(blob.descriptor.digest);
    if (!pending) {
      pending = this.ctx.limit(() => this.transfer(blob));
      this.pushed.set(blob.descriptor.digest, pending);
    }
    return pending;
  }

  private async transfer({ descriptor, open, origin }: ImageBlob): Promise<void> {
    const { digest, size } = descriptor;
    const event = { ref: this.target.display, digest };
    if (await blobExists(this.target, digest)) return this.ctx.progress({ kind: 'blob-skip', ...event });
    let session: URL | undefined;
    const mountFrom = mountSource(origin, this.target);
    if (mountFrom !== undefined) {
      // A refused mount (no pull access to the source, say) falls back to an upload.
      const mounted = await mountBlob(this.target, digest, mountFrom).then(
        (s) => s ?? ('mounted' as const),
        () => undefined,
      );
      if (mounted === 'mounted') return this.ctx.progress({ kind: 'blob-mount', ...event });
      session = mounted;
    }
    await uploadBlob(this.target, descriptor, open, this.ctx.upload, session);
    this.ctx.progress({ kind: 'blob-upload', ...event, bytes: size });
  }
}

/** PUTs an image's manifest (its blobs are there); lists it as a referrer of its subject if the registry does not. */
async function putImageManifest(target: RemoteRepository, ref: string, image: Image, ctx: TransferContext) {
  const [manifest, raw] = await Promise.all([image.manifest(), image.rawManifest()]);
  const { ociSubject } = await putManifest(target, ref, image.descriptor.mediaType, raw);
  const { subject, artifactType } = manifest as Manifest & { subject?: Descriptor; artifactType?: string };
  if (subject && !ociSubject) {
    const { mediaType, digest, size } = image.descriptor;
    const annotations = manifest.annotations ? { annotations: manifest.annotations } : {};
    await addFallbackReferrer(target, subject.digest, {
      mediaType,
      digest,
      size,
      artifactType: artifactType ?? manifest.config.mediaType,
      ...annotations,
    });
  }
  ctx.progress({ kind: 'manifest', ref: target.display, digest: image.descriptor.digest, bytes: raw.length });
}

/**
 * Pushes an image (blobs, then its manifest) or an index (each image by digest, then the index)
 * under `tag`, or by digest when there is none. Returns the top-level descriptor.
 */
export async function pushImageOrIndex(
  target: RemoteRepository,
  tag: string | undefined,
  source: ImageOrIndex,
  ctx: TransferContext,
): Promise<Descriptor> {
  const { mediaType, digest, size } = topDescriptor(source);
  if (source.kind === 'index') await refuseNestedIndexes(source.index, `cannot push ${target.display}`);
  const contents = await imageContents(source);
  const blobs = new BlobPusher(target, ctx);
  await Promise.all([...contents.layers, ...contents.configs].map((blob) => blobs.push(blob)));
  const imageReference = (image: Image) => (contents.index ? image.descriptor.digest : (tag ?? digest));
  await Promise.all(contents.manifests.map(({ image }) => putImageManifest(target, imageReference(image), image, ctx)));
  if (contents.index) {
    const raw = await contents.index.index.rawIndex();
    await putManifest(target, tag ?? digest, mediaType, raw);
    ctx.progress({ kind: 'manifest', ref: target.display, digest, bytes: raw.length });
  }
  return { mediaType, digest, size };
}
