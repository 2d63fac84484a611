import type { Readable } from 'node:stream';
import type { BlobOrigin } from './image.js';
import type { Descriptor } from './types.js';

/**
 * All that a store, a registry, an OCI layout or an archive supplies to be read as images
 * (`source-image.ts` does the rest: parsing, limits, validation, caching, platforms).
 */
export interface ImageSource {
  /** Names the source in messages: "oci-archive:/tmp/app.tar", "localhost:5000/team/app". */
  readonly what: string;
  /**
   * A blob's bytes, checked against the descriptor as they stream (a local store's were checked
   * when written); a blob the source lacks is a NotFoundError.
   */
  open(descriptor: Descriptor): Promise<Readable>;
  /** A manifest or index read whole, where the source keeps them apart from blobs (a registry's, by digest). */
  readManifest?(descriptor: Descriptor, limit: number): Promise<Buffer>;
  readonly origin?: BlobOrigin;
}
