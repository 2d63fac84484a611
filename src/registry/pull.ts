import { copyToStore } from '../content/copy-to-store.js';
import type { ContentStore } from '../content/store.js';
import type { Descriptor, Platform } from '../image/types.js';
import { formatReference, type Reference } from './reference.js';
import type { Registry } from './registry.js';

/** Pulls `ref` into a content store (see copyToStore). */
export async function pullToStore(
  registry: Registry,
  ref: Reference,
  store: ContentStore,
  platform: Platform | 'all',
): Promise<{ top: Descriptor; image?: Descriptor }> {
  return copyToStore(await registry.get(ref), store, platform, formatReference(ref), registry.transferContext());
}
