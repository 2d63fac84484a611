import { createWriteStream } from 'node:fs';
import { chmod, utimes } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DockerfileError } from '../frontend/errors.js';
import type { HttpSource, StepDescription } from '../graph/vertex.js';
import type { Digest } from '../image/digest.js';

/**
 * ADD of an http(s) URL: downloads into `dir` as the source's filename, mode 0600 as BuildKit
 * writes it, with the mtime of Last-Modified when the server sends one. A --checksum is verified
 * before the file is used.
 */
export async function download(src: HttpSource, dir: string, at: StepDescription): Promise<{ digest: Digest; mtime: number | null }> {
  const fail = (message: string): never => {
    throw new DockerfileError(at.file, at.line, `${at.text}: ${src.url}: ${message}`);
  };
  const response = await fetch(src.url, { redirect: 'follow' }).catch((err: unknown) => fail(`download failed: ${err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err)}`));
  if (!response.ok || !response.body) fail(`the server answered ${response.status} ${response.statusText}`);
  const path = join(dir, src.filename);
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>), hashing, createWriteStream(path, { mode: 0o600 }));
  const digest: Digest = `sha256:${hash.digest('hex')}`;
  if (src.checksum !== undefined && src.checksum !== digest) fail(`digest mismatch ${src.checksum}: ${digest}`);
  await chmod(path, 0o600);
  const lastModified = response.headers.get('last-modified');
  const mtime = lastModified ? Date.parse(lastModified) : NaN;
  if (!Number.isNaN(mtime)) await utimes(path, mtime / 1000, mtime / 1000);
  return { digest, mtime: Number.isNaN(mtime) ? null : mtime };
}
