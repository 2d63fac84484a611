import type { ImageOrIndex } from '../image/image.js';
import { MediaType } from '../image/media-types.js';
import { MAX_MANIFEST_BYTES } from '../image/parse.js';
import type { Index } from '../image/types.js';
import { verified } from '../registry/verify-stream.js';
import { addBlob, addFile, blobPath, writeTar } from './archive-writer.js';
import { blobImageOrIndex, type BlobReader } from './blob-image.js';
import { imageBlobs } from './image-blobs.js';
import { REF_NAME, parseIndexJson, pickManifest } from './oci-index.js';
import { TarIndex } from './tar-index.js';

export const OCI_LAYOUT_FILE = JSON.stringify({ imageLayoutVersion: '1.0.0' });

/** A BlobReader over the blobs/sha256/ entries of an OCI layout in a tar file. */
export function tarBlobReader(tar: TarIndex, what: string): BlobReader {
  return { what, open: async (d) => verified(tar.read(blobPath({ descriptor: d })), d, `${what} (${d.digest})`) };
}

/** Writes an image or index as an oci-archive: a tar of an OCI image layout, named `ref` in index.json. */
export async function writeOciArchive(path: string, source: ImageOrIndex, ref?: string): Promise<void> {
  const top = source.kind === 'image' ? source.image.descriptor : source.index.descriptor;
  const { mediaType, digest, size, platform } = top;
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [{ mediaType, digest, size, ...(platform ? { platform } : {}), ...(ref ? { annotations: { [REF_NAME]: ref } } : {}) }],
  };
  await writeTar(path, async (archive) => {
    await addFile(archive, 'oci-layout', OCI_LAYOUT_FILE);
    for (const blob of await imageBlobs(source)) await addBlob(archive, blob);
    await addFile(archive, 'index.json', JSON.stringify(index));
  });
}

/** Reads the image named `ref` (or the only one) of an oci-archive; blobs are verified as they are read. */
export async function readOciArchive(path: string, ref?: string): Promise<ImageOrIndex> {
  const what = `oci-archive:${path}`;
  const tar = await TarIndex.open(path, what);
  const index = parseIndexJson(await tar.readBuffer('index.json', MAX_MANIFEST_BYTES), what);
  return blobImageOrIndex(tarBlobReader(tar, what), pickManifest(index, ref, what));
}
