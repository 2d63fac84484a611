import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { pack, type Pack } from 'tar-stream';
import { cannotWrite } from '../errors.js';
import { digestHex } from '../image/digest.js';
import type { ImageBlob } from '../image/image.js';

const EPOCH = new Date(0);

export function blobPath(entry: { descriptor: { digest: `sha256:${string}` } }): string {
  return `blobs/sha256/${digestHex(entry.descriptor.digest)}`;
}

export async function addFile(archive: Pack, name: string, data: string | Buffer): Promise<void> {
  await new Promise<void>((resolve, reject) =>
    archive.entry({ name, mode: 0o644, mtime: EPOCH }, data, (err) => (err ? reject(err) : resolve())),
  );
}

/** Streams a blob into the archive; its bytes are checked by the source (verified streams). */
export async function addBlob(archive: Pack, blob: ImageBlob): Promise<void> {
  const sink = archive.entry({ name: blobPath(blob), size: blob.descriptor.size, mode: 0o644, mtime: EPOCH });
  await pipeline(await blob.open(), sink);
}

/** Writes a tar file whole or not at all: into a temp file beside `path`, renamed when complete. */
export async function writeTar(path: string, fill: (archive: Pack) => Promise<void>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  const archive = pack();
  const written = pipeline(archive, createWriteStream(tmp, { flags: 'wx' })).catch((err: unknown) => {
    throw cannotWrite(path, err);
  });
  try {
    // A file that cannot be written fails at once, not after the whole archive was read.
    await Promise.all([fill(archive).then(() => archive.finalize()), written]);
    await rename(tmp, path);
  } catch (err) {
    archive.destroy();
    await written.catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
