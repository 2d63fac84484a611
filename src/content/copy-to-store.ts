import { imageContents } from '../image/image-contents.js';
import { topDescriptor, type ImageBlob, type ImageOrIndex } from '../image/image.js';
import type { Descriptor, Platform } from '../image/types.js';
import type { TransferContext } from '../registry/context.js';
import { withRetry } from '../registry/retry.js';
import type { ContentStore } from './store.js';

/**
 * Copies an image or index into a content store: for an index, the chosen platform's image — or
 * all when platform is 'all' — then the index itself. Layers go first, then configs, then
 * manifests, then the index, so a failed copy never leaves a manifest whose blobs are missing.
 * Blobs already present are skipped; each is verified by digest and written atomically. `what`
 * names the source in messages. Returns the top-level descriptor and, for the chosen platform,
 * the image descriptor.
 */
export async function copyToStore(
  source: ImageOrIndex,
  store: ContentStore,
  platform: Platform | 'all',
  what: string,
  ctx: TransferContext,
): Promise<{ top: Descriptor; image?: Descriptor }> {
  const contents = await imageContents(source, { platform, what });
  const copy = async ({ descriptor, open }: ImageBlob, kind: 'blob-download' | 'manifest'): Promise<void> => {
    const { digest, size } = descriptor;
    if (await store.has(digest)) return ctx.progress({ kind: 'blob-skip', ref: what, digest });
    // A connection dropped mid-body fails the stream: fetch the blob again from the start.
    await withRetry(ctx.retry, async () => store.ingest(await open(), { digest, size }));
    ctx.progress({ kind, ref: what, digest, bytes: size });
  };
  await Promise.all(contents.layers.map((blob) => ctx.limit(() => copy(blob, 'blob-download'))));
  await Promise.all(contents.configs.map((blob) => copy(blob, 'blob-download')));
  await Promise.all(contents.manifests.map(({ blob }) => copy(blob, 'manifest')));
  if (contents.index) await copy(contents.index.blob, 'manifest');
  const top = topDescriptor(source);
  if (source.kind === 'index' && platform === 'all') return { top };
  return { top, image: contents.manifests[0]!.image.descriptor };
}
