import { storeImageOrIndex } from '../content/store-image.js';
import type { Descriptor, Platform } from '../image/types.js';
import { hostPlatform, parsePlatform } from '../image/platform.js';
import { formatReference, parseReference, type RegistryOptions } from '../registry/index.js';
import { openRoot, type StoreOptions } from '../root.js';
import { findImage } from './images.js';
import { sinkRegistry, writeLocation } from './image-location.js';
import { withRegistry } from './remote.js';

export interface TransferOptions extends StoreOptions {
  registry?: RegistryOptions;
}

/** Pushes a stored image (or index) to its own name's registry, or to `destination`. */
export async function push(
  source: string,
  destination?: string,
  opts: TransferOptions = {},
): Promise<{ ref: string; descriptor: Descriptor }> {
  const { layout } = await openRoot(opts.root);
  const { name, descriptor } = await findImage(layout, source);
  const ref = parseReference(destination ?? name);
  const image = { source: await storeImageOrIndex(layout.blobs, descriptor), what: name };
  const to = { kind: 'registry', ref } as const;
  const [pushed] = await withRegistry(opts, (registry) => writeLocation(to, [image], sinkRegistry(registry)));
  return { ref: formatReference(ref), descriptor: pushed! };
}

/** Pulls an image for one platform (default: this host's), or `all`, into the local store under its name. */
export async function pull(
  name: string,
  opts: TransferOptions & { platform?: string | 'all' } = {},
): Promise<{ ref: string; descriptor: Descriptor }> {
  const { layout } = await openRoot(opts.root);
  const ref = parseReference(name);
  const platform: Platform | 'all' =
    opts.platform === 'all' ? 'all' : opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const [top] = await withRegistry(opts, async (registry) => {
    const image = { source: await registry.get(ref), what: formatReference(ref), names: ref.digest ? [] : [ref] };
    return writeLocation({ kind: 'store', layout, platform }, [image], sinkRegistry(registry));
  });
  return { ref: formatReference(ref), descriptor: top! };
}
