import { copyToStore } from '../content/copy-to-store.js';
import { OciLayout } from '../content/layout.js';
import { InvalidInputError } from '../errors.js';
import { topDescriptor, type ImageOrIndex } from '../image/image.js';
import type { Descriptor, Platform } from '../image/types.js';
import { familiarName, formatReference, parseReference, type Reference } from '../registry/reference.js';
import type { Registry } from '../registry/registry.js';

const FILE_KINDS = ['oci', 'oci-archive', 'docker-archive'] as const;
type FileKind = (typeof FILE_KINDS)[number];

/**
 * Where images are read from and written to: the table of sources and sinks that `copy`,
 * `build` (-o, --push), `save`, `load` and `pull` all go through. A new kind of location is a
 * case of `ImageLocation`, an entry of `SINKS` (and of `openLocation` if it can be read).
 * Archive code loads only when an archive is read or written: a pull does not need it.
 */
export type ImageLocation =
  | { kind: 'registry'; ref: Reference }
  /** The local store; `platform`: which images of an index to keep (the index itself always). */
  | { kind: 'store'; layout: OciLayout; platform: Platform | 'all' }
  | { [K in FileKind]: { kind: K; path: string; name: string | undefined } }[FileKind];

/** An image or index to write, with the names it gets where a location keeps names (the store, a docker-archive). */
export interface ImageToWrite {
  source: ImageOrIndex;
  /** Names the source in messages and progress events. */
  what: string;
  names?: Reference[];
}

/** The registry client a sink may need (to push, or for its transfer limits), made on first use. */
export interface SinkRegistry {
  get(): Promise<Registry>;
}

export function sinkRegistry(registry: Registry): SinkRegistry {
  return { get: async () => registry };
}

/** `docker://REF` or a bare REF, `oci:DIR[:NAME]`, `oci-archive:FILE[:NAME]`, `docker-archive:FILE[:NAME]`. */
export function parseLocation(text: string): ImageLocation {
  const colon = text.indexOf(':');
  const kind = colon > 0 ? text.slice(0, colon) : '';
  if (kind === 'docker') {
    if (!text.startsWith('docker://'))
      throw new InvalidInputError(`"${text}": write a registry image as docker://REFERENCE`);
    return { kind: 'registry', ref: parseReference(text.slice('docker://'.length)) };
  }
  const fileKind = FILE_KINDS.find((k) => k === kind);
  if (!fileKind) return { kind: 'registry', ref: parseReference(text) };
  const rest = text.slice(colon + 1);
  const sep = rest.indexOf(':');
  const path = sep < 0 ? rest : rest.slice(0, sep);
  if (path === '') {
    const example = `${fileKind}:./image${fileKind === 'oci' ? '' : '.tar'}`;
    throw new InvalidInputError(`"${text}": the ${fileKind} path is empty`, { hint: `e.g. ${example}` });
  }
  return { kind: fileKind, path, name: sep < 0 || rest.slice(sep + 1) === '' ? undefined : rest.slice(sep + 1) };
}

export function describeLocation(loc: ImageLocation): string {
  switch (loc.kind) {
    case 'registry':
      return formatReference(loc.ref);
    case 'store':
      return `the local store ${loc.layout.root}`;
    default:
      return `${loc.kind}:${loc.path}${loc.name ? `:${loc.name}` : ''}`;
  }
}

/** Opens the image or index at a location (a registry's is read lazily, blob by blob). */
export async function openLocation(loc: ImageLocation, registry: Registry): Promise<ImageOrIndex> {
  switch (loc.kind) {
    case 'registry':
      return registry.get(loc.ref);
    case 'store':
      throw new InvalidInputError('the local store is read by image name, not as a location');
    case 'oci':
      return new OciLayout(loc.path).image(loc.name);
    case 'oci-archive':
      return (await import('../export/oci-archive.js')).readOciArchive(loc.path, loc.name);
    case 'docker-archive': {
      const { readDockerArchive } = await import('../export/docker-archive.js');
      return { kind: 'image', image: (await readDockerArchive(loc.path, loc.name)).image };
    }
  }
}

/** The one image a location that holds one is given. */
function single(images: ImageToWrite[], loc: ImageLocation): ImageOrIndex {
  if (images.length !== 1) {
    throw new InvalidInputError(`${describeLocation(loc)} takes one image, not ${images.length}`);
  }
  return images[0]!.source;
}

type Sink<K extends ImageLocation['kind']> = (
  loc: Extract<ImageLocation, { kind: K }>,
  images: ImageToWrite[],
  registry: SinkRegistry,
) => Promise<Descriptor[]>;

const SINKS: { [K in ImageLocation['kind']]: Sink<K> } = {
  registry: async (loc, images, registry) => [await (await registry.get()).push(loc.ref, single(images, loc))],
  store: async (loc, images, registry) => {
    const transfer = (await registry.get()).transferContext();
    const written: Descriptor[] = [];
    for (const { source, what, names } of images) {
      const { top } = await copyToStore(source, loc.layout.blobs, loc.platform, what, transfer);
      for (const ref of names ?? []) await loc.layout.tag(formatReference(ref), top, ref.tag);
      written.push(top);
    }
    return written;
  },
  oci: async (loc, images, registry) => {
    const source = single(images, loc);
    const layout = new OciLayout(loc.path);
    await layout.init();
    await copyToStore(source, layout.blobs, 'all', images[0]!.what, (await registry.get()).transferContext());
    await layout.tag(loc.name ?? 'latest', topDescriptor(source), loc.name ?? 'latest');
    return [topDescriptor(source)];
  },
  'oci-archive': async (loc, images) => {
    const source = single(images, loc);
    const { writeOciArchive } = await import('../export/oci-archive.js');
    await writeOciArchive(loc.path, source, loc.name);
    return [topDescriptor(source)];
  },
  'docker-archive': async (loc, images) => {
    const named = images.map(({ source, names }) => {
      if (source.kind === 'index') {
        const hint = 'choose one with --platform, or write an oci-archive';
        throw new InvalidInputError(`a docker-archive holds one platform's image: ${hint}`);
      }
      const tags = [...(loc.name ? [parseReference(loc.name)] : []), ...(names ?? [])];
      return { image: source.image, tags: tags.map(familiarName) };
    });
    const { writeDockerArchive } = await import('../export/docker-archive.js');
    await writeDockerArchive(loc.path, named);
    return named.map(({ image }) => image.descriptor);
  },
};

/** Writes images to a location; returns the descriptors written at their tops. */
export function writeLocation(
  loc: ImageLocation,
  images: ImageToWrite[],
  registry: SinkRegistry,
): Promise<Descriptor[]> {
  return (SINKS[loc.kind] as Sink<ImageLocation['kind']>)(loc, images, registry);
}
