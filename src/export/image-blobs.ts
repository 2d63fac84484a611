import { Readable } from 'node:stream';
import type { Image, ImageOrIndex } from '../image/image.js';
import type { Descriptor } from '../image/types.js';

/** One blob of an image to write somewhere: its descriptor and how to read it. */
export interface BlobEntry {
  descriptor: Descriptor;
  open(): Promise<Readable>;
}

function bufferEntry(descriptor: Descriptor, raw: Buffer): BlobEntry {
  return { descriptor, open: async () => Readable.from([raw]) };
}

async function imageEntries(image: Image): Promise<BlobEntry[]> {
  const [manifest, layers, rawConfig, rawManifest] = await Promise.all([image.manifest(), image.layers(), image.rawConfig(), image.rawManifest()]);
  return [
    ...layers.map((l) => ({ descriptor: l.descriptor, open: () => l.open() })),
    bufferEntry(manifest.config, rawConfig),
    bufferEntry(image.descriptor, rawManifest),
  ];
}

/**
 * Every blob of an image or index, each once, in the order a sink must write them so that
 * nothing refers to a blob not yet written: layers, config, manifest (per image), then the index.
 */
export async function imageBlobs(source: ImageOrIndex): Promise<BlobEntry[]> {
  const entries =
    source.kind === 'image'
      ? await imageEntries(source.image)
      : [
          ...(await Promise.all((await source.index.manifests()).map(async (d) => imageEntries(await source.index.image(d))))).flat(),
          bufferEntry(source.index.descriptor, await source.index.rawIndex()),
        ];
  const seen = new Set<string>();
  return entries.filter((e) => !seen.has(e.descriptor.digest) && seen.add(e.descriptor.digest));
}
