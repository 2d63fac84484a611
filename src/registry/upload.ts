import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TcbuildError, messageOf } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { Descriptor } from '../image/types.js';
import { pullScope } from './auth.js';
import { blobName } from './blobs.js';
import { RegistryError } from './errors.js';
import type { RemoteRepository } from './repository.js';
import { backoffDelay, isRetryableError, withRetry } from './retry.js';
import { header, serverUrl } from './transport.js';
import { verified } from '../stream/verified.js';

export interface UploadOptions {
  /** Send blobs in PATCH chunks of this many bytes; undefined: one PUT, except above `chunkedAbove`. */
  chunkSize: number | undefined;
  chunkedAbove: number;
}

export const DEFAULT_UPLOAD: UploadOptions = { chunkSize: undefined, chunkedAbove: 1024 * 1024 * 1024 };
const LARGE_BLOB_CHUNK = 64 * 1024 * 1024;

/**
 * Where the registry wants the next bytes; followed wherever it points, but its credentials go only to the registry
 * (see Transport).
 */
function uploadLocation(location: string | undefined, base: URL, what: string): URL {
  if (!location)
    throw new TcbuildError(
      `the registry started an upload for ${what} without saying where to send it (no Location header)`,
    );
  return serverUrl(location, base, `the upload of ${what}`);
}

/**
 * Asks the registry to link a blob from another repository it holds (no bytes move). Returns
 * undefined if it did, or the upload session it opened instead.
 */
export async function mountBlob(repo: RemoteRepository, digest: Digest, from: string): Promise<URL | undefined> {
  const what = blobName(repo, digest);
  const res = await repo.transport.request({
    method: 'POST',
    path: `/v2/${repo.name}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`,
    scopes: [...repo.scopes, pullScope(from)],
    what,
    expect: [201, 202],
  });
  await res.body.dump();
  return res.status === 201 ? undefined : uploadLocation(header(res.headers, 'location'), res.url, what);
}

async function startUpload(repo: RemoteRepository, what: string): Promise<URL> {
  const res = await repo.transport.request({
    method: 'POST',
    path: `/v2/${repo.name}/blobs/uploads/`,
    scopes: repo.scopes,
    what,
    expect: [202],
  });
  await res.body.dump();
  return uploadLocation(header(res.headers, 'location'), res.url, what);
}

/**
 * The source's bytes, refused as they stream if they are not what the descriptor says: a registry never gets a corrupt
 * blob from us.
 */
async function verifiedSource(open: () => Promise<Readable>, descriptor: Descriptor): Promise<Readable> {
  return verified(await open(), descriptor, `the source of blob ${descriptor.digest}`);
}

/** The PUT that ends an upload session, with the digest the registry must verify; `body` is the rest of the bytes. */
async function finishUpload(
  repo: RemoteRepository,
  location: URL,
  descriptor: Descriptor,
  what: string,
  body?: () => Promise<Readable>,
  length = 0,
): Promise<void> {
  const url = new URL(location);
  url.searchParams.set('digest', descriptor.digest);
  const res = await repo.transport.request({
    method: 'PUT',
    path: url.href,
    scopes: repo.scopes,
    what,
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(length) },
    ...(body ? { body } : {}),
    expect: [201, 204],
    retry: false,
  });
  await res.body.dump();
}

/**
 * Uploads a blob: monolithic (POST opens a session, one PUT sends every byte) by default,
 * chunked PATCHes when asked or when the blob is large. A failed exchange leaves the session
 * unusable, so the whole upload is what gets retried — chunks resume within one session.
 */
export async function uploadBlob(
  repo: RemoteRepository,
  descriptor: Descriptor,
  open: () => Promise<Readable>,
  options: UploadOptions,
  session?: URL,
): Promise<void> {
  const what = blobName(repo, descriptor.digest);
  const chunkSize = options.chunkSize ?? (descriptor.size > options.chunkedAbove ? LARGE_BLOB_CHUNK : undefined);
  let opened = session;
  await withRetry(repo.transport.retryPolicy, async () => {
    const location = opened ?? (await startUpload(repo, what));
    opened = undefined;
    if (chunkSize === undefined)
      return finishUpload(repo, location, descriptor, what, () => verifiedSource(open, descriptor), descriptor.size);
    const source = await verifiedSource(open, descriptor);
    try {
      await finishUpload(repo, await sendChunks(repo, location, source, chunkSize, what), descriptor, what);
    } finally {
      source.destroy();
    }
  });
}

/** Cuts a stream into buffers of `size` bytes (the last may be shorter). */
async function* chunksOf(source: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let length = 0;
  for await (const data of source as AsyncIterable<Buffer>) {
    for (let at = 0; at < data.length; ) {
      const take = Math.min(size - length, data.length - at);
      pending.push(data.subarray(at, at + take));
      length += take;
      at += take;
      if (length === size) {
        yield Buffer.concat(pending, length);
        pending = [];
        length = 0;
      }
    }
  }
  if (length > 0) yield Buffer.concat(pending, length);
}

async function sendChunks(
  repo: RemoteRepository,
  start: URL,
  source: Readable,
  chunkSize: number,
  what: string,
): Promise<URL> {
  let location = start;
  let offset = 0;
  for await (const chunk of chunksOf(source, chunkSize)) {
    location = await sendChunk(repo, location, chunk, offset, what);
    offset += chunk.length;
  }
  return location;
}

/** Where the registry says an upload session stands: the next byte it wants. */
async function uploadOffset(repo: RemoteRepository, location: URL, what: string): Promise<number> {
  const res = await repo.transport.request({
    method: 'GET',
    path: location.href,
    scopes: repo.scopes,
    what,
    expect: [204],
  });
  await res.body.dump();
  const range = /^(?:bytes=)?0-(\d+)$/.exec(header(res.headers, 'range') ?? '');
  return range ? Number(range[1]) + 1 : 0;
}

/** The offset to resume a chunk at; a session the registry forgot or rewound is retried whole, by uploadBlob. */
async function resumeOffset(
  repo: RemoteRepository,
  location: URL,
  chunk: Buffer,
  offset: number,
  what: string,
): Promise<number> {
  let at: number;
  try {
    at = await uploadOffset(repo, location, what);
  } catch (err) {
    throw new RegistryError(`the upload session of ${what} is gone: ${messageOf(err)}`, {
      retryable: true,
      cause: err,
    });
  }
  if (at < offset || at > offset + chunk.length) {
    throw new RegistryError(`the registry holds ${at} bytes of the upload of ${what}, not the ${offset} sent`, {
      retryable: true,
    });
  }
  return at;
}

/**
 * PATCHes one chunk that starts at `offset` of the blob; after a failure, asks the registry how
 * much it kept (GET on the session, its Range header) and sends only the rest. Returns the
 * session's next location.
 */
async function sendChunk(
  repo: RemoteRepository,
  location: URL,
  chunk: Buffer,
  offset: number,
  what: string,
): Promise<URL> {
  const policy = repo.transport.retryPolicy;
  let from = offset;
  for (let attempt = 1; ; attempt++) {
    const part = chunk.subarray(from - offset);
    if (part.length === 0) return location;
    try {
      const res = await repo.transport.request({
        method: 'PATCH',
        path: location.href,
        scopes: repo.scopes,
        what,
        headers: {
          'content-type': 'application/octet-stream',
          'content-range': `${from}-${from + part.length - 1}`,
          'content-length': String(part.length),
        },
        body: part,
        expect: [202],
        retry: false,
      });
      await res.body.dump();
      return uploadLocation(header(res.headers, 'location'), res.url, what);
    } catch (err) {
      if (!isRetryableError(err) || attempt >= policy.maxAttempts) throw err;
      await sleep(backoffDelay(policy, attempt, err instanceof RegistryError ? err.retryAfterMs : undefined));
      from = await resumeOffset(repo, location, chunk, offset, what);
    }
  }
}
