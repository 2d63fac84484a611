import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { readDockerArchiveImages, writeDockerArchive, type NamedImage } from '../export/docker-archive.js';
import { hostPlatform, parsePlatform } from '../image/platform.js';
import { copyToStore } from '../content/copy-to-store.js';
import { familiarName, formatReference, parseReference, Registry } from '../registry/index.js';
import { openRoot } from '../root.js';
import { findImage } from './images.js';
import { storedImage } from './resolve-image.js';

export interface ArchiveOptions {
  root?: string;
  /** For a stored index: which platform's image to save (default this host's). */
  platform?: string;
}

/** Writes stored images to a docker-archive, as `docker save -o FILE IMAGE...` does. */
export async function save(names: string[], output: string, opts: ArchiveOptions = {}): Promise<void> {
  const { layout } = await openRoot(opts.root);
  const platform = opts.platform ? parsePlatform(opts.platform) : hostPlatform();
  const images: NamedImage[] = [];
  for (const name of names) {
    const found = await findImage(layout, name);
    const image = await storedImage(layout, found.descriptor, platform, found.name);
    const isDigest = found.descriptor.digest === name || found.descriptor.digest === `sha256:${name}`;
    images.push({ image, tags: isDigest ? [] : [familiarName(parseReference(found.name))] });
  }
  await writeDockerArchive(output, images);
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

/** Loads every image of a docker-archive (a file, or a stream) into the local store under its names, as `docker load`. */
export async function load(input: string | Readable, opts: ArchiveOptions = {}): Promise<{ names: string[]; digests: string[] }> {
  if (typeof input !== 'string') return spooled(input, (path) => load(path, opts));
  const { layout } = await openRoot(opts.root);
  const registry = new Registry();
  const names: string[] = [];
  const digests: string[] = [];
  try {
    for (const { image, tags } of await readDockerArchiveImages(input)) {
      await copyToStore({ kind: 'image', image }, layout.blobs, 'all', `docker-archive:${input}`, registry.transferContext());
      digests.push(image.descriptor.digest);
      for (const tag of tags) {
        const ref = parseReference(tag);
        await layout.tag(formatReference(ref), image.descriptor, ref.tag);
        names.push(familiarName(ref));
      }
    }
  } finally {
    await registry.close();
  }
  return { names, digests };
}
