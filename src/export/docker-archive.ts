import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { sha256, type Digest } from '../image/digest.js';
import type { ImageSource } from '../image/image-source.js';
import { allBlobs, imageContents } from '../image/image-contents.js';
import type { Image } from '../image/image.js';
import { SourceImage } from '../image/source-image.js';
import { MediaType } from '../image/media-types.js';
import { MAX_CONFIG_BYTES, MAX_DESCRIPTORS } from '../image/parse.js';
import type { Descriptor, Index, Manifest } from '../image/types.js';
import { verified } from '../stream/verified.js';
import { addBlob, addFile, blobPath, writeTar } from './archive-writer.js';
import { OCI_LAYOUT_FILE } from './oci-archive.js';
import { REF_NAME } from './oci-index.js';
import { TarIndex } from './tar-index.js';

/** One entry of a docker-archive's manifest.json. */
interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

export interface NamedImage {
  image: Image;
  /** "name:tag" as docker writes them (familiar names). */
  tags: string[];
}

/**
 * Writes images as `docker save` (docker 25+) does: an OCI layout plus manifest.json naming
 * each image's config and layers by path, so both docker load and OCI tools read it. Layers
 * are written as they are (compressed); docker load accepts that.
 */
export async function writeDockerArchive(path: string, images: NamedImage[]): Promise<void> {
  const entries: DockerManifestEntry[] = [];
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
  const written = new Set<string>();
  await writeTar(path, async (archive) => {
    await addFile(archive, 'oci-layout', OCI_LAYOUT_FILE);
    for (const { image, tags } of images) {
      for (const blob of allBlobs(await imageContents({ kind: 'image', image }))) {
        if (written.has(blob.descriptor.digest)) continue;
        written.add(blob.descriptor.digest);
        await addBlob(archive, blob);
      }
      const manifest = await image.manifest();
      entries.push({
        Config: blobPath({ descriptor: manifest.config }),
        RepoTags: tags,
        Layers: manifest.layers.map((d) => blobPath({ descriptor: d })),
      });
      const { mediaType, digest, size } = image.descriptor;
      for (const name of tags.length ? tags : [undefined]) {
        index.manifests.push({
          mediaType,
          digest,
          size,
          ...(name
            ? { annotations: { 'io.containerd.image.name': name, [REF_NAME]: name.slice(name.lastIndexOf(':') + 1) } }
            : {}),
        });
      }
    }
    await addFile(archive, 'manifest.json', JSON.stringify(entries));
    await addFile(archive, 'index.json', JSON.stringify(index));
  });
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/**
 * The layer's compression from its first bytes (docker archives hold plain or compressed tars), and its digest and
 * size.
 */
async function describeLayer(tar: TarIndex, path: string): Promise<Descriptor> {
  const named = /^blobs\/sha256\/([a-f0-9]{64})$/.exec(path);
  const hash = createHash('sha256');
  let head = Buffer.alloc(0);
  const source = tar.read(path);
  for await (const chunk of source as AsyncIterable<Buffer>) {
    if (head.length < 4) head = Buffer.concat([head, chunk]).subarray(0, 4);
    if (named) {
      source.destroy(); // the name says the digest; reads verify it later
      break;
    }
    hash.update(chunk);
  }
  const mediaType = head.subarray(0, 2).equals(GZIP_MAGIC)
    ? MediaType.ociLayerGzip
    : head.equals(ZSTD_MAGIC)
      ? MediaType.ociLayerZstd
      : MediaType.ociLayer;
  const digest: Digest = named ? `sha256:${named[1]!}` : `sha256:${hash.digest('hex')}`;
  return { mediaType, digest, size: tar.sizeOf(path)! };
}

/**
 * manifest.json, checked: a list of images whose Config and Layers are paths of entries in the
 * archive — relative, without '..' — and whose RepoTags are strings.
 */
function parseDockerManifest(raw: Buffer, what: string): DockerManifestEntry[] {
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new InvalidInputError(`${what}: manifest.json is not valid JSON`);
  }
  const bad = (why: string) =>
    new InvalidInputError(`${what}: manifest.json is not a docker-archive manifest: ${why}`, {
      hint: 'the archive is damaged or hostile; tcbuild does not load it',
    });
  if (!Array.isArray(value)) throw bad('it is not a list of images');
  if (value.length > MAX_DESCRIPTORS)
    throw bad(`it lists ${value.length} images, more than the ${MAX_DESCRIPTORS} tcbuild accepts`);
  return value.map((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) throw bad(`entry ${i} is not an object`);
    const { Config, Layers, RepoTags } = entry as Record<string, unknown>;
    const memberPath = (p: unknown, field: string): string => {
      if (typeof p !== 'string' || p === '') throw bad(`${field} of entry ${i} is not a path`);
      if (p.startsWith('/') || p.split('/').includes('..')) {
        throw bad(
          `${field} of entry ${i} is ${JSON.stringify(p.slice(0, 100))}, which is not a path inside the archive`,
        );
      }
      return p;
    };
    if (!Array.isArray(Layers)) throw bad(`Layers of entry ${i} is not a list`);
    if (Layers.length > MAX_DESCRIPTORS)
      throw bad(`entry ${i} has ${Layers.length} layers, more than the ${MAX_DESCRIPTORS} tcbuild accepts`);
    if (
      RepoTags !== null &&
      RepoTags !== undefined &&
      !(Array.isArray(RepoTags) && RepoTags.every((t) => typeof t === 'string'))
    ) {
      throw bad(`RepoTags of entry ${i} is not a list of names`);
    }
    return {
      Config: memberPath(Config, 'Config'),
      Layers: Layers.map((p, j) => memberPath(p, `Layers[${j}]`)),
      RepoTags: (RepoTags as string[] | undefined) ?? null,
    };
  });
}

function entryName(tags: string[] | null, wanted: string): boolean {
  return (tags ?? []).some((t) => t === wanted || t === `${wanted}:latest`);
}

/** The image named `ref` (or the only one) of a docker-archive, read through a synthesized OCI manifest. */
export async function readDockerArchive(path: string, ref?: string): Promise<NamedImage> {
  return (await readDockerArchiveImages(path, ref))[0]!;
}

/** Every image of a docker-archive (or the one named `ref`), as `docker load` reads them. */
export async function readDockerArchiveImages(path: string, ref?: string): Promise<NamedImage[]> {
  const what = `docker-archive:${path}`;
  const tar = await TarIndex.open(path, what);
  // It lists every image of a `docker save`: allowed as much as a config.
  const entries = parseDockerManifest(await tar.readBuffer('manifest.json', MAX_CONFIG_BYTES), what);
  const chosen = ref === undefined ? entries : entries.filter((e) => entryName(e.RepoTags, ref));
  if (chosen.length === 0)
    throw new NotFoundError(
      `${what} has no image named "${ref}"; it has ` +
        `${entries.flatMap((e) => e.RepoTags ?? []).join(', ') || 'no named images'}`,
    );
  return Promise.all(chosen.map((entry) => dockerArchiveImage(tar, entry, what)));
}

async function dockerArchiveImage(tar: TarIndex, entry: DockerManifestEntry, what: string): Promise<NamedImage> {
  const rawConfig = await tar.readBuffer(entry.Config, MAX_CONFIG_BYTES);
  const config: Descriptor = { mediaType: MediaType.ociConfig, digest: sha256(rawConfig), size: rawConfig.length };
  const layers = await Promise.all(entry.Layers.map((p) => describeLayer(tar, p)));
  const paths = new Map<string, string>(entry.Layers.map((p, i) => [layers[i]!.digest, p]));
  const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers };
  const rawManifest = Buffer.from(JSON.stringify(manifest));
  const descriptor: Descriptor = {
    mediaType: MediaType.ociManifest,
    digest: sha256(rawManifest),
    size: rawManifest.length,
  };
  const inMemory = new Map<string, Buffer>([
    [config.digest, rawConfig],
    [descriptor.digest, rawManifest],
  ]);
  const blobs: ImageSource = {
    what,
    open: async (d) => {
      const held = inMemory.get(d.digest);
      const path = paths.get(d.digest);
      if (!held && !path) throw new NotFoundError(`${what} has no blob ${d.digest}`);
      return verified(held ? Readable.from([held]) : tar.read(path!), d, `${what} (${d.digest})`);
    },
  };
  return { image: new SourceImage(blobs, descriptor), tags: entry.RepoTags ?? [] };
}
