import { closeSync, constants, createReadStream, fstatSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { InvalidInputError, NotFoundError, isErrno } from '../errors.js';
import { digestHex } from '../image/digest.js';
import type { ImageSource } from '../image/image-source.js';
import type { ImageOrIndex } from '../image/image.js';
import { openImageOrIndex } from '../image/source-image.js';
import { MAX_MANIFEST_BYTES } from '../image/parse.js';
import { readLimited, tooLarge } from '../stream/read-limited.js';
import { verified } from '../stream/verified.js';
import { fsOps } from '../snapshot/native.js';
import { parseIndexJson, pickManifest } from './oci-index.js';

/**
 * Opens `relative` below the layout directory `dir` for reading, as a regular file reached
 * without a symlink, a magic link or '..' (openat2 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS): a
 * layout someone else wrote cannot point us at a host file. The directory itself is the user's
 * to name, so a symlink to it is followed.
 */
function openBelow(dir: string, relative: string, what: string): { fd: number; size: number } {
  const { constants: c, openat2 } = fsOps();
  let dirfd: number;
  try {
    dirfd = openat2(c.AT_FDCWD, dir, c.O_PATH | c.O_DIRECTORY | c.O_CLOEXEC, 0, 0);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR'))
      throw new NotFoundError(`${what} is not a directory`, { hint: 'oci:DIR names an OCI image layout directory' });
    throw err;
  }
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO planted in the layout must not hang; it is refused below.
    fd = openat2(
      dirfd,
      relative,
      constants.O_RDONLY | constants.O_NONBLOCK | c.O_CLOEXEC,
      0,
      c.RESOLVE_BENEATH | c.RESOLVE_NO_SYMLINKS | c.RESOLVE_NO_MAGICLINKS,
    );
  } catch (err) {
    if (isErrno(err, 'ENOENT'))
      throw new NotFoundError(`${what} has no ${relative}`, {
        hint: relative === 'index.json' ? 'is it an OCI image layout?' : 'the layout is incomplete',
      });
    if (isErrno(err, 'ELOOP') || isErrno(err, 'EXDEV')) {
      throw new InvalidInputError(
        `${what}: ${relative} is a symlink or passes through one; tcbuild reads a layout only from the files inside it`,
        {
          hint: 'copy the layout with its files dereferenced (cp -rL), or re-export it',
        },
      );
    }
    throw err;
  } finally {
    closeSync(dirfd);
  }
  const stat = fstatSync(fd);
  if (!stat.isFile()) {
    closeSync(fd);
    throw new InvalidInputError(`${what}: ${relative} is not a regular file`);
  }
  return { fd, size: stat.size };
}

function openStream(dir: string, relative: string, what: string): { stream: Readable; size: number } {
  const { fd, size } = openBelow(dir, relative, what);
  return { stream: createReadStream('', { fd }), size };
}

function layoutDirSource(dir: string, what: string): ImageSource {
  return {
    what,
    open: async (d) =>
      verified(openStream(dir, `blobs/sha256/${digestHex(d.digest)}`, what).stream, d, `${what} (${d.digest})`),
  };
}

/** The image named `name` (or the only one) of an OCI layout directory; blobs are verified as they are read. */
export async function readOciDir(dir: string, name: string | undefined): Promise<ImageOrIndex> {
  const what = `oci:${dir}`;
  const { stream, size } = openStream(dir, 'index.json', what);
  if (size > MAX_MANIFEST_BYTES) {
    stream.destroy();
    throw tooLarge(`index.json of ${what}`, MAX_MANIFEST_BYTES, size);
  }
  const index = parseIndexJson(await readLimited(stream, MAX_MANIFEST_BYTES, `index.json of ${what}`), what);
  return openImageOrIndex(layoutDirSource(dir, what), pickManifest(index, name, what));
}
