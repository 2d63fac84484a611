import type { OciLayout } from '../content/layout.js';
import { storeImageOrIndex } from '../content/store-image.js';
import { NotFoundError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../image/types.js';
import { parseIndex } from '../image/parse.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { openRoot, type StoreOptions } from '../root.js';

export interface ImageSummary {
  name: string;
  digest: Digest;
  mediaType: string;
  /** Compressed size of the manifest(s), configs and layers. */
  size: number;
  /** The config's `created` (of an index: its first image's), when it has one. */
  created?: string;
  /** The config's labels (of an index: its first image's). */
  labels: Record<string, string>;
}

/** Stored names, as `docker images` lists them. */
export async function images(opts: StoreOptions = {}): Promise<ImageSummary[]> {
  const { layout } = await openRoot(opts.root);
  const entries = await layout.list();
  return Promise.all(
    entries.map(async ({ name, descriptor }) => {
      const config = await firstConfig(layout, descriptor);
      return {
        name,
        digest: descriptor.digest,
        mediaType: descriptor.mediaType,
        size: [...(await layout.reachableBlobs([descriptor]))].reduce((sum, [, size]) => sum + size, 0),
        ...(config?.created ? { created: config.created } : {}),
        labels: config?.config?.Labels ?? {},
      };
    }),
  );
}

async function firstConfig(layout: OciLayout, descriptor: Descriptor): Promise<ImageConfig | undefined> {
  const found = await storeImageOrIndex(layout.blobs, descriptor);
  if (found.kind === 'image') return found.image.config();
  if (found.kind !== 'index') return undefined;
  const [first] = await found.index.manifests();
  return first ? firstConfig(layout, first) : undefined;
}

/** A stored image by name (docker-style short names work) or digest. */
export async function findImage(
  layout: OciLayout,
  nameOrDigest: string,
): Promise<{ name: string; descriptor: Descriptor }> {
  const entries = await layout.list();
  const byDigest = entries.find(
    (e) => e.descriptor.digest === nameOrDigest || e.descriptor.digest === `sha256:${nameOrDigest}`,
  );
  if (byDigest) return byDigest;
  const name = formatReference(parseReference(nameOrDigest));
  const entry = entries.find((e) => e.name === name);
  if (!entry) {
    throw new NotFoundError(`image "${nameOrDigest}" is not in the local store`, {
      hint: 'list stored images with: tcbuild images',
    });
  }
  return entry;
}

/** Gives a stored image another name, as `docker tag` does. */
export async function tag(source: string, target: string, opts: StoreOptions = {}): Promise<void> {
  const { layout } = await openRoot(opts.root);
  const { descriptor } = await findImage(layout, source);
  const ref = parseReference(target);
  await layout.tag(formatReference(ref), descriptor, ref.tag);
}

/** Removes names; the blobs they held are freed by the next prune. */
export async function rmi(names: string[], opts: StoreOptions = {}): Promise<string[]> {
  const { layout } = await openRoot(opts.root);
  const full = await Promise.all(names.map(async (n) => (await findImage(layout, n)).name));
  await layout.untag(full);
  return full;
}

export interface InspectResult {
  name: string;
  descriptor: Descriptor;
  manifest?: Manifest;
  index?: Index;
  config?: ImageConfig;
}

/** A stored image's manifest and config, or an index. */
export async function inspect(nameOrDigest: string, opts: StoreOptions = {}): Promise<InspectResult> {
  const { layout } = await openRoot(opts.root);
  const { name, descriptor } = await findImage(layout, nameOrDigest);
  const found = await storeImageOrIndex(layout.blobs, descriptor);
  if (found.kind === 'index') {
    return {
      name,
      descriptor,
      index: parseIndex(await found.index.rawIndex(), `the stored index ${descriptor.digest}`),
    };
  }
  return { name, descriptor, manifest: await found.image.manifest(), config: await found.image.config() };
}
