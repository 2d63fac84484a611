import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { TcbuildError } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { Descriptor } from '../image/types.js';
import { pullScope } from './auth.js';
import { withRetry } from './retry.js';
import type { RemoteRepository } from './repository.js';
import { header, readLimited } from './transport.js';
import { VerifyingStream } from './verify-stream.js';

function blobPath(repo: RemoteRepository, digest: Digest): string {
  return `/v2/${repo.name}/blobs/${digest}`;
}

function blobName(repo: RemoteRepository, digest: Digest): string {
  return `blob ${digest} of ${repo.display}`;
}

export async function blobExists(repo: RemoteRepository, digest: Digest): Promise<boolean> {
  const res = await repo.transport.request({
    method: 'HEAD',
    path: blobPath(repo, digest),
    scopes: repo.scopes,
    what: blobName(repo, digest),
    expect: [200, 404],
  });
  await res.body.dump();
  return res.status === 200;
}

/** The blob's bytes as they stream (following redirects), failing if they do not match `descriptor`. */
export async function openBlob(repo: RemoteRepository, descriptor: Descriptor): Promise<Readable> {
  const what = blobName(repo, descriptor.digest);
  const res = await repo.transport.request({ method: 'GET', path: blobPath(repo, descriptor.digest), scopes: repo.scopes, what, expect: [200] });
  const verifier = new VerifyingStream(descriptor, `the registry (${what})`);
  pipeline(res.body, verifier, () => undefined); // errors reach the reader through `verifier`
  return verifier;
}

/** A small blob (a config) read whole, verified. */
export async function readBlob(repo: RemoteRepository, descriptor: Descriptor, limit: number): Promise<Buffer> {
  if (descriptor.size > limit) throw new TcbuildError(`${blobName(repo, descriptor.digest)} is ${descriptor.size} bytes, more than the ${limit} allowed for it`);
  return readLimited(await openBlob(repo, descriptor), limit, blobName(repo, descriptor.digest));
}

function uploadLocation(location: string | undefined, base: URL, what: string): URL {
  if (!location) throw new TcbuildError(`the registry started an upload for ${what} without saying where to send it (no Location header)`);
  return new URL(location, base);
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
  const res = await repo.transport.request({ method: 'POST', path: `/v2/${repo.name}/blobs/uploads/`, scopes: repo.scopes, what, expect: [202] });
  await res.body.dump();
  return uploadLocation(header(res.headers, 'location'), res.url, what);
}

/**
 * A monolithic upload: POST opens a session, one PUT sends every byte with the digest. A failed
 * PUT leaves the session unusable, so the whole exchange is what gets retried.
 */
export async function uploadBlob(repo: RemoteRepository, descriptor: Descriptor, open: () => Promise<Readable>, session?: URL): Promise<void> {
  const what = blobName(repo, descriptor.digest);
  let opened = session;
  await withRetry(repo.transport.retryPolicy, async () => {
    const location = opened ?? (await startUpload(repo, what));
    opened = undefined;
    location.searchParams.set('digest', descriptor.digest);
    const res = await repo.transport.request({
      method: 'PUT',
      path: location.href,
      scopes: repo.scopes,
      what,
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(descriptor.size) },
      body: open,
      expect: [201, 204],
      retry: false,
    });
    await res.body.dump();
  });
}
