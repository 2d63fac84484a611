import type { ContentStore } from '../content/store.js';
import type { Image, ImageOrIndex } from '../image/image.js';
import { isManifestMediaType } from '../image/media-types.js';
import type { Descriptor, Platform } from '../image/types.js';
import type { TransferContext } from './context.js';
import { selectPlatform } from './platform-select.js';
import { formatReference, type Reference } from './reference.js';
import type { Registry } from './registry.js';
import { withRetry } from './retry.js';

/** Stores a small blob (config, manifest, index) unless present, reporting which it was. */
async function storeSmall(store: ContentStore, d: Descriptor, raw: () => Promise<Buffer>, kind: 'blob-download' | 'manifest', ref: string, ctx: TransferContext): Promise<void> {
  if (await store.has(d.digest)) return ctx.progress({ kind: 'blob-skip', ref, digest: d.digest });
  await store.writeBuffer(await raw(), { digest: d.digest, size: d.size });
  ctx.progress({ kind, ref, digest: d.digest, bytes: d.size });
}

/**
 * Copies one image into the store: layers first, then the config, then the manifest, so a failed
 * pull never leaves a manifest whose blobs are missing.
 */
async function storeImage(image: Image, store: ContentStore, ref: string, ctx: TransferContext): Promise<void> {
  const manifest = await image.manifest();
  const layers = await image.layers();
  await Promise.all(
    layers.map((layer) =>
      ctx.limit(async () => {
        const { digest, size } = layer.descriptor;
        if (await store.has(digest)) return ctx.progress({ kind: 'blob-skip', ref, digest });
        // A connection dropped mid-body fails the stream: fetch the blob again from the start.
        await withRetry(ctx.retry, async () => store.ingest(await layer.open(), { digest, size }));
        ctx.progress({ kind: 'blob-download', ref, digest, bytes: size });
      }),
    ),
  );
  await storeSmall(store, manifest.config, () => image.rawConfig(), 'blob-download', ref, ctx);
  await storeSmall(store, image.descriptor, () => image.rawManifest(), 'manifest', ref, ctx);
}

/**
 * Copies an image or index into a content store: for an index, the chosen platform's image — or
 * all when platform is 'all' — then the index itself. Blobs already present are skipped; each
 * is verified by digest and written atomically. `what` names the source in messages. Returns
 * the top-level descriptor and, for the chosen platform, the image descriptor.
 */
export async function copyToStore(
  source: ImageOrIndex,
  store: ContentStore,
  platform: Platform | 'all',
  what: string,
  ctx: TransferContext,
): Promise<{ top: Descriptor; image?: Descriptor }> {
  if (source.kind === 'image') {
    await storeImage(source.image, store, what, ctx);
    return { top: source.image.descriptor, image: source.image.descriptor };
  }
  const { index } = source;
  const manifests = await index.manifests();
  const chosen = platform === 'all' ? manifests.filter((d) => isManifestMediaType(d.mediaType)) : [selectPlatform(manifests, platform, what)];
  await Promise.all(chosen.map(async (d) => storeImage(await index.image(d), store, what, ctx)));
  await storeSmall(store, index.descriptor, () => index.rawIndex(), 'manifest', what, ctx);
  return platform === 'all' ? { top: index.descriptor } : { top: index.descriptor, image: chosen[0]! };
}

/** Pulls `ref` into a content store (see copyToStore). */
export async function pullToStore(
  registry: Registry,
  ref: Reference,
  store: ContentStore,
  platform: Platform | 'all',
): Promise<{ top: Descriptor; image?: Descriptor }> {
  return copyToStore(await registry.get(ref), store, platform, formatReference(ref), registry.transferContext());
}
