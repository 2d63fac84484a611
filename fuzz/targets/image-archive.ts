import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ContentStore } from '../../src/content/store.js';
import { storeSource } from '../../src/content/store-image.js';
import { SourceImage } from '../../src/image/source-image.js';
import { readDockerArchiveImages, writeDockerArchive } from '../../src/export/docker-archive.js';
import { readOciArchive, writeOciArchive } from '../../src/export/oci-archive.js';
import { sha256 } from '../../src/image/digest.js';
import type { Image } from '../../src/image/image.js';
import { MediaType } from '../../src/image/media-types.js';
import { END_OF_ARCHIVE, encodeEntryHeader, tarEntry } from '../../src/snapshot/tar-format.js';
import { sealTarHeaders } from '../tar-seal.js';
import type { FuzzTarget } from '../target.js';

const scratch = mkdtempSync(join(tmpdir(), 'tcbuild-fuzz-archive-'));
const archive = join(scratch, 'input.tar');
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));

/** Everything a load or copy reads of an image: manifest, config, and every layer's bytes (verified). */
async function readImage(image: Image): Promise<void> {
  await image.manifest();
  await image.config();
  for (const layer of await image.layers()) {
    for await (const chunk of await layer.open()) void chunk;
  }
}

/** A one-layer image in a fresh store, saved as both kinds of archive: the seeds. */
async function savedImages(): Promise<Buffer[]> {
  const store = new ContentStore(join(scratch, 'store'));
  const put = async (mediaType: string, value: unknown) => ({
    mediaType,
    ...(await store.writeBuffer(Buffer.from(JSON.stringify(value)))),
  });
  const tar = Buffer.concat([
    encodeEntryHeader(tarEntry({ name: 'a', type: 'file', size: 2 })),
    Buffer.from('a\n'),
    Buffer.alloc(510),
    END_OF_ARCHIVE,
  ]);
  const layer = { mediaType: MediaType.ociLayerGzip, ...(await store.writeBuffer(gzipSync(tar))) };
  const config = await put(MediaType.ociConfig, {
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
  });
  const image = new SourceImage(
    storeSource(store),
    await put(MediaType.ociManifest, { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [layer] }),
  );
  const docker = join(scratch, 'docker.tar');
  const oci = join(scratch, 'oci.tar');
  await writeDockerArchive(docker, [{ image, tags: ['app:1'] }]);
  await writeOciArchive(oci, { kind: 'image', image }, 'app:1');
  return [
    Buffer.concat([Buffer.from([0]), readFileSync(docker)]),
    Buffer.concat([Buffer.from([1]), readFileSync(oci)]),
  ];
}

/**
 * Image archives as `load` and `copy` read them (src/export/tar-index.ts, docker-archive.ts,
 * oci-archive.ts): the first byte picks docker-archive or oci-archive, the rest is the file.
 */
export const target: FuzzTarget = {
  description:
    'docker-archive and oci-archive files (src/export/tar-index.ts, docker-archive.ts, oci-archive.ts): index, manifests, blobs',
  async fuzz(data) {
    writeFileSync(archive, sealTarHeaders(data.subarray(1)));
    if ((data[0] ?? 0) % 2 === 0) {
      for (const { image } of await readDockerArchiveImages(archive)) await readImage(image);
      return;
    }
    const found = await readOciArchive(archive);
    if (found.kind === 'image') await readImage(found.image);
    else for (const d of await found.index.manifests()) await readImage(await found.index.image(d));
  },
  seeds: savedImages,
  dictionary: [
    'manifest.json',
    'index.json',
    'oci-layout',
    'blobs/sha256/',
    '"Config"',
    '"Layers"',
    '"RepoTags"',
    '../',
    '/',
    'path=',
    'size=',
    'linkpath=',
    '././@LongLink',
    '\x00',
  ],
  maxLength: 32768,
};
