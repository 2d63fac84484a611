import type { Readable } from 'node:stream';
import { parseDigest, type Digest } from '../image/digest.js';
import type { Descriptor } from '../image/types.js';
import { resumingStream } from './resume.js';
import type { RemoteRepository } from './repository.js';
import { header } from './transport.js';
import { verified } from '../stream/verified.js';

export function blobPath(repo: RemoteRepository, digest: Digest): string {
  return `/v2/${repo.name}/blobs/${parseDigest(digest, `a blob of ${repo.display}`)}`;
}

export function blobName(repo: RemoteRepository, digest: Digest): string {
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

/** A GET of the blob from `offset` on; says where the bytes it sends start (a registry may ignore Range). */
async function getBlobFrom(
  repo: RemoteRepository,
  digest: Digest,
  offset: number,
): Promise<{ body: Readable; start: number }> {
  const res = await repo.transport.request({
    method: 'GET',
    path: blobPath(repo, digest),
    scopes: repo.scopes,
    what: blobName(repo, digest),
    ...(offset > 0 ? { headers: { range: `bytes=${offset}-` } } : {}),
    expect: [200, 206],
  });
  const range = /^bytes (\d+)-/.exec(header(res.headers, 'content-range') ?? '');
  return { body: res.body, start: res.status === 206 && range ? Number(range[1]) : 0 };
}

/**
 * The blob's bytes as they stream (following redirects), failing if they do not match
 * `descriptor`. A connection cut mid-body is picked up where it stopped, with Range.
 */
export async function openBlob(repo: RemoteRepository, descriptor: Descriptor): Promise<Readable> {
  const what = blobName(repo, descriptor.digest);
  const first = await getBlobFrom(repo, descriptor.digest, 0);
  const body = resumingStream(
    first.body,
    (offset) => getBlobFrom(repo, descriptor.digest, offset),
    repo.transport.retryPolicy,
  );
  return verified(body, descriptor, `the registry (${what})`);
}
