import { storeImageOrIndex } from '../content/store-image.js';
import type { Descriptor, Platform } from '../image/types.js';
import { hostPlatform, parsePlatform } from '../image/platform.js';
import { formatReference, parseReference, pullToStore, type RegistryOptions } from '../registry/index.js';
import { openRoot, type StoreOptions } from '../root.js';
import { findImage } from './images.js';
import { withRegistry } from './remote.js';

export interface TransferOptions extends StoreOptions {
  registry?: RegistryOptions;
}

/** Pushes a stored image (or index) to its own name's registry, or to `destination`. */
export async function push(source: string, destination?: string, opts: TransferOptions = {}): Promise<{ ref: string; descriptor: Descriptor }> {
  const { layout } = await openRoot(opts.root);
  const { name, descriptor } = await findImage(layout, source);
  const ref = parseReference(destination ?? name);
  const image = await storeImageOrIndex(layout.blobs, descriptor);
  return withRegistry(opts, async (registry) => ({ ref: formatReference(ref), descriptor: await registry.push(ref, image) }));
}

/** Pulls an image for one platform (default: this host's), or `all`, into the local store under its name. */
export async function pull(name: string, opts: TransferOptions & { platform?: string | 'all' } = {}): Promise<{ ref: string; descriptor: Descriptor }> {
  const { layout } = await openRoot(opts.root);
  const ref = parseReference(name);
  const platform: Platform | 'all' = opts.platform === 'all' ? 'all' : opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const { top } = await withRegistry(opts, (registry) => pullToStore(registry, ref, layout.blobs, platform));
  if (!ref.digest) await layout.tag(formatReference(ref), top, ref.tag);
  return { ref: formatReference(ref), descriptor: top };
}
