import { Readable } from 'node:stream';
import { DigestMismatchError, InvalidInputError } from '../errors.js';
import { sha256 } from './digest.js';
import type { Image, ImageBlob, ImageIndex, ImageOrIndex } from './image.js';
import { isManifestMediaType } from './media-types.js';
import { platformEntries } from './platform-select.js';
import type { Descriptor, Platform } from './types.js';

/**
 * The one walk from an image or index to its blobs, for every sink (store, registry, layout,
 * archives) and for the store's own bookkeeping (what a name keeps, its size).
 */
export interface ImageContents {
  /** Layers, each once. */
  layers: ImageBlob[];
  /** Configs, each once. */
  configs: ImageBlob[];
  /** Image manifests, to be written after every blob (a manifest never names a blob not yet there). */
  manifests: { image: Image; blob: ImageBlob }[];
  /** The index, to be written last, when the top is one. */
  index?: { index: ImageIndex; blob: ImageBlob };
}

export interface WalkOptions {
  /** Which images of an index: one platform's, or every image entry ('all', the default). */
  platform?: Platform | 'all';
  /** Names the source in messages (a platform it lacks). */
  what?: string;
  /**
   * Take only the blobs for which this says yes, and look no further below a manifest or index
   * it says no to (what a local store holds of an image pulled for one platform).
   */
  present?: (descriptor: Descriptor) => Promise<boolean>;
}

/** A document already read, as a blob: a source whose bytes are not what its descriptor says writes nothing. */
function documentBlob(descriptor: Descriptor, raw: Buffer, kind: string, origin?: ImageBlob['origin']): ImageBlob {
  const digest = sha256(raw);
  if (digest !== descriptor.digest || raw.length !== descriptor.size) {
    throw new DigestMismatchError(
      `the ${kind} ${descriptor.digest} is inconsistent: its descriptor says ${descriptor.digest} ` +
        `(${descriptor.size} bytes), its content is ${digest} (${raw.length} bytes)`,
    );
  }
  return { descriptor, origin, open: async () => Readable.from([raw]) };
}

export async function imageContents(top: ImageOrIndex, opts: WalkOptions = {}): Promise<ImageContents> {
  const present = opts.present ?? (async () => true);
  const contents: ImageContents = { layers: [], configs: [], manifests: [] };
  const seen = new Set<string>();
  const take = async (blob: ImageBlob, into: ImageBlob[]): Promise<void> => {
    if (seen.has(blob.descriptor.digest)) return;
    seen.add(blob.descriptor.digest);
    if (await present(blob.descriptor)) into.push(blob);
  };
  const walkImage = async (image: Image): Promise<void> => {
    if (seen.has(image.descriptor.digest) || !(await present(image.descriptor))) return;
    seen.add(image.descriptor.digest);
    const manifest = await image.manifest();
    // A store may hold a manifest without all it names: its layers are then not checked against diff_ids.
    const layers = opts.present ? manifest.layers.map((d) => image.blob(d)) : await image.layers();
    for (const layer of layers) await take(layer, contents.layers);
    const config = opts.present
      ? image.blob(manifest.config)
      : documentBlob(manifest.config, await image.rawConfig(), 'config', image.origin);
    await take(config, contents.configs);
    const blob = documentBlob(image.descriptor, await image.rawManifest(), 'manifest', image.origin);
    contents.manifests.push({ image, blob });
  };
  if (top.kind === 'image') {
    await walkImage(top.image);
    return contents;
  }
  const { index } = top;
  if (!(await present(index.descriptor))) return contents;
  const entries = platformEntries(await index.manifests(), opts.platform ?? 'all', opts.what ?? 'the index');
  const images = await Promise.all(entries.map((entry) => index.image(entry)));
  // Each image's documents are fetched at once (they are kept), then walked in order: the order is the output's.
  if (!opts.present) await Promise.all(images.map((image) => image.layers()));
  for (const image of images) await walkImage(image);
  contents.index = { index, blob: documentBlob(index.descriptor, await index.rawIndex(), 'index') };
  return contents;
}

/** Every blob of the contents, in the order a sink writes them. */
export function allBlobs(contents: ImageContents): ImageBlob[] {
  const index = contents.index ? [contents.index.blob] : [];
  return [...contents.layers, ...contents.configs, ...contents.manifests.map((m) => m.blob), ...index];
}

/** A registry or archive that holds an index holds its children: tcbuild writes no index of indexes. */
export async function refuseNestedIndexes(index: ImageIndex, what: string): Promise<void> {
  const nested = (await index.manifests()).find((d) => !isManifestMediaType(d.mediaType));
  if (nested) {
    const { mediaType, digest } = nested;
    throw new InvalidInputError(`${what}: its index holds a ${mediaType} (${digest}); nested indexes are unsupported`);
  }
}
