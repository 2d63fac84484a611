import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readDockerArchiveImages } from '../export/docker-archive.js';
import { hostPlatform, parsePlatform } from '../image/platform.js';
import { familiarName, parseReference } from '../registry/reference.js';
import { openRoot, type StoreOptions } from '../root.js';
import { findImage } from './images.js';
import { sinkRegistry, writeLocation, type ImageToWrite } from './image-location.js';
import { withRegistry } from './remote.js';
import { storedImage } from './resolve-image.js';

export interface ArchiveOptions extends StoreOptions {
  /** For a stored index: which platform's image to save (default this host's). */
  platform?: string;
}

/** Writes stored images to a docker-archive, as `docker save -o FILE IMAGE...` does. */
export async function save(names: string[], output: string, opts: ArchiveOptions = {}): Promise<void> {
  const { layout } = await openRoot(opts.root);
  const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const images: ImageToWrite[] = [];
  for (const name of names) {
    const found = await findImage(layout, name);
    const image = await storedImage(layout, found.descriptor, platform, found.name);
    const isDigest = found.descriptor.digest === name || found.descriptor.digest === `sha256:${name}`;
    const tags = isDigest ? [] : [parseReference(found.name)];
    images.push({ source: { kind: 'image', image }, what: found.name, names: tags });
  }
  const to = { kind: 'docker-archive', path: output, name: undefined } as const;
  await withRegistry({}, (registry) => writeLocation(to, images, sinkRegistry(registry)));
}

/** Copies a stream (docker load's stdin) to a temp file: archives are read by offset. */
async function spooled<T>(input: Readable, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tcbuild-load-'));
  try {
    const path = join(dir, 'archive.tar');
    await pipeline(input, createWriteStream(path));
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Loads every image of a docker-archive (a file, or a stream) into the local store under its names, as `docker load`.
 */
export async function load(
  input: string | Readable,
  opts: ArchiveOptions = {},
): Promise<{ names: string[]; digests: string[] }> {
  if (typeof input !== 'string') return spooled(input, (path) => load(path, opts));
  const { layout } = await openRoot(opts.root);
  const images: ImageToWrite[] = (await readDockerArchiveImages(input)).map(({ image, tags }) => ({
    source: { kind: 'image', image },
    what: `docker-archive:${input}`,
    names: tags.map((tag) => parseReference(tag)),
  }));
  const to = { kind: 'store', layout, platform: 'all' } as const;
  const digests = await withRegistry({}, (registry) => writeLocation(to, images, sinkRegistry(registry)));
  return { names: images.flatMap((i) => i.names!.map(familiarName)), digests: digests.map((d) => d.digest) };
}
