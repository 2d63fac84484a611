import { closeSync, createWriteStream, fchmodSync, futimesSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { downloadName } from '../frontend/download-name.js';
import { DockerfileError } from '../frontend/errors.js';
import type { HttpSource, StepDescription } from '../graph/vertex.js';
import type { Digest } from '../image/digest.js';
import { ScopedDir } from '../snapshot/scoped-dir.js';

export interface Downloaded {
  /** The file's name in the download directory: one path element (see downloadName). */
  name: string;
  digest: Digest;
  mtime: number | null;
}

/**
 * ADD of an http(s) URL: downloads into the empty directory `dir`, under the name the server or
 * the URL gives, mode 0600 as BuildKit writes it, with the mtime of Last-Modified when the server
 * sends one. The file is created fd-relative in `dir` and never through a symlink. A --checksum
 * is verified before the file is used.
 */
export async function download(src: HttpSource, dir: string, at: StepDescription): Promise<Downloaded> {
  const fail = (message: string): never => {
    throw new DockerfileError(at.file, at.line, `${at.text}: ${src.url}: ${message}`);
  };
  const response = await fetch(src.url, { redirect: 'follow' }).catch((err: unknown) =>
    fail(
      `download failed: ` +
        `${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`,
    ),
  );
  if (!response.ok || !response.body) fail(`the server answered ${response.status} ${response.statusText}`);
  const name = downloadName(new URL(src.url), response.headers.get('content-disposition'));
  const scoped = ScopedDir.open(dir);
  const dirfd = scoped.openDir([], false);
  let fd: number;
  try {
    fd = scoped.createFile(dirfd, name);
  } finally {
    closeSync(dirfd);
    scoped.close();
  }
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>),
      hashing,
      createWriteStream('', { fd, autoClose: false }),
    );
    const digest: Digest = `sha256:${hash.digest('hex')}`;
    if (src.checksum !== undefined && src.checksum !== digest) fail(`digest mismatch ${src.checksum}: ${digest}`);
    fchmodSync(fd, 0o600);
    const lastModified = response.headers.get('last-modified');
    const mtime = lastModified ? Date.parse(lastModified) : NaN;
    if (!Number.isNaN(mtime)) futimesSync(fd, mtime / 1000, mtime / 1000);
    return { name, digest, mtime: Number.isNaN(mtime) ? null : mtime };
  } finally {
    closeSync(fd);
  }
}
