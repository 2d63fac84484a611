import type { ImageSource } from '../image/image-source.js';
import type { ImageOrIndex } from '../image/image.js';
import { openImageOrIndex } from '../image/source-image.js';
import type { Descriptor } from '../image/types.js';
import type { ContentStore } from './store.js';

/** A local content store as a source of images: its blobs were verified when they were written. */
export function storeSource(blobs: ContentStore, what = 'the local store'): ImageSource {
  return { what, open: (d) => blobs.read(d.digest), readManifest: (d) => blobs.readBuffer(d.digest) };
}

/** An image or index whose blobs are all in a local content store. */
export async function storeImageOrIndex(blobs: ContentStore, descriptor: Descriptor): Promise<ImageOrIndex> {
  return openImageOrIndex(storeSource(blobs), descriptor);
}
