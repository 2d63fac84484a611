import { NotFoundError } from '../errors.js';
import { digestHex, parseDigest, type Digest } from '../image/digest.js';
import { MediaType } from '../image/media-types.js';
import { MAX_MANIFEST_BYTES, parseIndex } from '../image/parse.js';
import type { Descriptor, Index } from '../image/types.js';
import { fetchManifest, putManifest } from './manifest.js';
import { manifestName, type RemoteRepository } from './repository.js';
import { displayUrl, header } from './transport.js';
import { readLimited } from '../stream/read-limited.js';

/** A referrer: a manifest whose `subject` is another manifest (a signature, an SBOM). */
export interface Referrer extends Descriptor {
  artifactType?: string;
}

/** The tag the OCI 1.1 fallback ("referrers tag schema") keeps an image's referrers under: `sha256-<hex>`. */
export function fallbackTag(subject: Digest): string {
  return `sha256-${digestHex(subject)}`;
}

function referrersOf(raw: Buffer, what: string): Referrer[] {
  return parseIndex(raw, what).manifests as Referrer[];
}

async function fallbackReferrers(repo: RemoteRepository, subject: Digest): Promise<Referrer[]> {
  try {
    const { raw } = await fetchManifest(repo, fallbackTag(subject));
    return referrersOf(raw, `the referrers of ${manifestName(repo, subject)}`);
  } catch (err) {
    if (err instanceof NotFoundError) return [];
    throw err;
  }
}

/**
 * The manifests that refer to `subject`: from the referrers API where the registry offers it,
 * else from the fallback tag. `artifactType` filters them (here, if the registry did not).
 */
export async function listReferrers(
  repo: RemoteRepository,
  subject: Digest,
  artifactType?: string,
): Promise<Referrer[]> {
  const what = `the referrers of ${manifestName(repo, subject)}`;
  const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
  const res = await repo.transport.request({
    method: 'GET',
    path: `/v2/${repo.name}/referrers/${parseDigest(subject, what)}${query}`,
    scopes: repo.scopes,
    what,
    expect: [200, 404],
  });
  const isIndex = res.status === 200 && header(res.headers, 'content-type')?.startsWith(MediaType.ociIndex);
  if (!isIndex) await res.body.dump();
  const at = `${what} at ${displayUrl(res.url)}`;
  const all = isIndex
    ? referrersOf(await readLimited(res.body, MAX_MANIFEST_BYTES, at), at)
    : await fallbackReferrers(repo, subject);
  return artifactType ? all.filter((d) => d.artifactType === artifactType) : all;
}

/** Adds `referrer` to the fallback tag's index of `subject` (for registries without the referrers API). */
export async function addFallbackReferrer(repo: RemoteRepository, subject: Digest, referrer: Referrer): Promise<void> {
  const existing = await fallbackReferrers(repo, subject);
  if (existing.some((d) => d.digest === referrer.digest)) return;
  const index: Index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...existing, referrer] };
  await putManifest(repo, fallbackTag(subject), MediaType.ociIndex, Buffer.from(JSON.stringify(index)));
}
