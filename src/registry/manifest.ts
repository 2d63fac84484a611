import { InvalidInputError, DigestMismatchError } from '../errors.js';
import { isDigest, parseDigest, sha256, type Digest } from '../image/digest.js';
import { MediaType, isIndexMediaType, isManifestMediaType } from '../image/media-types.js';
import { MAX_MANIFEST_BYTES, parseIndex, parseManifest } from '../image/parse.js';
import type { Descriptor } from '../image/types.js';
import { UnauthorizedError } from './errors.js';
import { isTag } from './reference.js';
import { manifestName, type RemoteRepository } from './repository.js';
import { displayUrl, header, type Headers } from './transport.js';
import { readLimited, tooLarge } from '../stream/read-limited.js';

/** The manifest types we read, in the order we prefer them. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerManifestList,
  MediaType.dockerManifest,
].join(', ');

const SCHEMA1_TYPES: string[] = [MediaType.dockerManifestV1, MediaType.dockerManifestV1Signed];

export interface FetchedManifest {
  descriptor: Descriptor;
  raw: Buffer;
}

/** A tag or a digest: nothing else may become part of the URL. */
function manifestPath(repo: RemoteRepository, reference: string): string {
  if (!isTag(reference)) parseDigest(reference, `the manifest reference of ${repo.display}`);
  return `/v2/${repo.name}/manifests/${reference}`;
}

function mediaTypeOfContentType(contentType: string | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase();
}

/**
 * The media type of a manifest: its own mediaType field, else the Content-Type the registry
 * sent, else what its shape says. Schema 1 and anything that is not a manifest are refused.
 */
export function manifestMediaType(raw: Buffer, contentType: string | undefined, what: string): string {
  let body: { schemaVersion?: unknown; mediaType?: unknown; manifests?: unknown };
  try {
    body = JSON.parse(raw.toString('utf8')) as typeof body;
  } catch {
    throw new InvalidInputError(`the manifest of ${what} is not valid JSON`);
  }
  const headerType = mediaTypeOfContentType(contentType);
  if (body.schemaVersion === 1 || SCHEMA1_TYPES.includes(headerType ?? '')) {
    throw new InvalidInputError(`${what} is a Docker schema 1 manifest, which tcbuild does not read`, {
      hint:
        'schema 1 has been deprecated since 2017: rebuild and push the image with a current tool (docker, ' +
        'buildah, tcbuild)',
    });
  }
  const known = (mt: string | undefined) => isManifestMediaType(mt) || isIndexMediaType(mt);
  const mediaType =
    typeof body.mediaType === 'string'
      ? body.mediaType
      : known(headerType)
        ? headerType!
        : Array.isArray(body.manifests)
          ? MediaType.ociIndex
          : MediaType.ociManifest;
  if (!known(mediaType))
    throw new InvalidInputError(`${what} has the media type "${mediaType}", which is not an image manifest or index`);
  return mediaType;
}

function checkDigest(actual: Digest, expected: Digest | undefined, what: string, source: string): void {
  if (expected !== undefined && expected !== actual) {
    throw new DigestMismatchError(`the manifest of ${what} has digest ${actual}, but ${source} says ${expected}`, {
      hint: 'the registry or something between it and you altered the manifest; do not use it',
    });
  }
}

/** The registry's Docker-Content-Digest, when it sent one: a malformed one is refused, not ignored. */
function contentDigest(headers: Headers, url: URL): Digest | undefined {
  const value = header(headers, 'docker-content-digest');
  return value === undefined ? undefined : parseDigest(value, `the Docker-Content-Digest header of ${displayUrl(url)}`);
}

/**
 * GETs a manifest or index (at most 4 MiB, refused as soon as it is more) and verifies it:
 * against the digest it was asked by, the descriptor it was expected to match, and the
 * registry's Docker-Content-Digest when present; then every descriptor in it.
 */
export async function fetchManifest(
  repo: RemoteRepository,
  reference: string,
  expected?: Descriptor,
): Promise<FetchedManifest> {
  const what = manifestName(repo, reference);
  const res = await repo.transport.request({
    method: 'GET',
    path: manifestPath(repo, reference),
    scopes: repo.scopes,
    what,
    headers: { accept: MANIFEST_ACCEPT },
    expect: [200],
  });
  const at = `the manifest of ${what} at ${displayUrl(res.url)}`;
  const length = Number(header(res.headers, 'content-length') ?? 0);
  if (length > MAX_MANIFEST_BYTES) {
    res.body.destroy();
    throw tooLarge(at, MAX_MANIFEST_BYTES, length);
  }
  const raw = await readLimited(res.body, MAX_MANIFEST_BYTES, at);
  const digest = sha256(raw);
  if (isDigest(reference)) checkDigest(digest, reference, what, 'the reference');
  checkDigest(digest, expected?.digest, what, 'its descriptor');
  checkDigest(digest, contentDigest(res.headers, res.url), what, 'the registry (Docker-Content-Digest)');
  if (expected && expected.size !== raw.length) {
    throw new DigestMismatchError(
      `the manifest of ${what} is ${raw.length} bytes, not the ${expected.size} its descriptor says`,
    );
  }
  const mediaType = manifestMediaType(raw, header(res.headers, 'content-type'), what);
  if (isIndexMediaType(mediaType)) parseIndex(raw, at);
  else parseManifest(raw, at);
  return { descriptor: { mediaType, digest, size: raw.length }, raw };
}

/** The descriptor from a HEAD, or undefined when the registry's answer does not give it whole. */
export async function headManifest(repo: RemoteRepository, reference: string): Promise<Descriptor | undefined> {
  let res: Awaited<ReturnType<RemoteRepository['transport']['request']>>;
  try {
    res = await repo.transport.request({
      method: 'HEAD',
      path: manifestPath(repo, reference),
      scopes: repo.scopes,
      what: manifestName(repo, reference),
      headers: { accept: MANIFEST_ACCEPT },
      expect: [200],
    });
  } catch (err) {
    if (err instanceof UnauthorizedError) throw err;
    return undefined; // a GET says better what is wrong
  }
  await res.body.dump();
  const digest = header(res.headers, 'docker-content-digest');
  const mediaType = mediaTypeOfContentType(header(res.headers, 'content-type'));
  const size = Number(header(res.headers, 'content-length'));
  if (
    !digest ||
    !isDigest(digest) ||
    !(isManifestMediaType(mediaType) || isIndexMediaType(mediaType)) ||
    !Number.isSafeInteger(size) ||
    size <= 0
  ) {
    return undefined;
  }
  if (isDigest(reference) && digest !== reference) return undefined;
  return { mediaType: mediaType!, digest, size };
}

/**
 * PUTs a manifest under a tag or its digest; the registry must agree on its digest. Returns the
 * digest and the OCI-Subject header, by which a registry says it indexed the manifest's subject.
 */
export async function putManifest(
  repo: RemoteRepository,
  reference: string,
  mediaType: string,
  raw: Buffer,
): Promise<{ digest: Digest; ociSubject: string | undefined }> {
  const what = manifestName(repo, reference);
  const res = await repo.transport.request({
    method: 'PUT',
    path: manifestPath(repo, reference),
    scopes: repo.scopes,
    what,
    headers: { 'content-type': mediaType },
    body: raw,
    expect: [200, 201],
  });
  await res.body.dump();
  const digest = sha256(raw);
  checkDigest(digest, contentDigest(res.headers, res.url), what, 'the registry (Docker-Content-Digest)');
  return { digest, ociSubject: header(res.headers, 'oci-subject') };
}

/** Deletes a manifest by digest (a registry deletes by digest only; every tag on it goes too). */
export async function deleteManifest(repo: RemoteRepository, digest: Digest): Promise<void> {
  const what = manifestName(repo, digest);
  const res = await repo.transport.request({
    method: 'DELETE',
    path: manifestPath(repo, digest),
    scopes: repo.scopes,
    what,
    expect: [200, 202],
  });
  await res.body.dump();
}
