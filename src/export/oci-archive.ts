import type { ImageSource } from '../image/image-source.js';
import { allBlobs, imageContents, refuseNestedIndexes } from '../image/image-contents.js';
import { topDescriptor, type ImageOrIndex } from '../image/image.js';
import { MediaType } from '../image/media-types.js';
import { MAX_MANIFEST_BYTES } from '../image/parse.js';
import type { Index } from '../image/types.js';
import { verified } from '../stream/verified.js';
import { addBlob, addFile, blobPath, writeTar } from './archive-writer.js';
import { openImageOrIndex } from '../image/source-image.js';
import { REF_NAME, parseIndexJson, pickManifest } from './oci-index.js';
import { TarIndex } from './tar-index.js';

export const OCI_LAYOUT_FILE = JSON.stringify({ imageLayoutVersion: '1.0.0' });

/** The blobs/sha256/ entries of an OCI layout in a tar file. */
function layoutTarSource(tar: TarIndex, what: string): ImageSource {
  return { what, open: async (d) => verified(tar.read(blobPath({ descriptor: d })), d, `${what} (${d.digest})`) };
}

/** Writes an image or index as an oci-archive: a tar of an OCI image layout, named `ref` in index.json. */
export async function writeOciArchive(path: string, source: ImageOrIndex, ref?: string): Promise<void> {
  const { mediaType, digest, size, platform } = topDescriptor(source);
  if (source.kind === 'index') await refuseNestedIndexes(source.index, `cannot write oci-archive:${path}`);
  const blobs = allBlobs(await imageContents(source));
  const index: Index = {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      {
        mediaType,
        digest,
        size,
        ...(platform ? { platform } : {}),
        ...(ref ? { annotations: { [REF_NAME]: ref } } : {}),
      },
    ],
  };
  await writeTar(path, async (archive) => {
    await addFile(archive, 'oci-layout', OCI_LAYOUT_FILE);
    for (const blob of blobs) await addBlob(archive, blob);
    await addFile(archive, 'index.json', JSON.stringify(index));
  });
}

/** Reads the image named `ref` (or the only one) of an oci-archive; blobs are verified as they are read. */
export async function readOciArchive(path: string, ref?: string): Promise<ImageOrIndex> {
  const what = `oci-archive:${path}`;
  const tar = await TarIndex.open(path, what);
  const index = parseIndexJson(await tar.readBuffer('index.json', MAX_MANIFEST_BYTES), what);
  return openImageOrIndex(layoutTarSource(tar, what), pickManifest(index, ref, what));
}
