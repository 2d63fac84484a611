import { NotFoundError } from '../errors.js';
import { isManifestMediaType } from '../image/media-types.js';
import { formatPlatform, platformMatches } from '../image/platform.js';
import type { Descriptor, Platform } from '../image/types.js';

/** Entries that are images for a real platform (not attestations, which say unknown/unknown). */
export function platformImages(manifests: Descriptor[]): Descriptor[] {
  return manifests.filter((d) => isManifestMediaType(d.mediaType) && d.platform && d.platform.os !== 'unknown');
}

/** The index entry for `want` (normalized, so aarch64 = arm64 = arm64/v8), or an error listing what there is. */
export function selectPlatform(manifests: Descriptor[], want: Platform, what: string): Descriptor {
  const candidates = platformImages(manifests);
  const match = candidates.find((d) => platformMatches(want, d.platform!));
  if (match) return match;
  const available = candidates.map((d) => formatPlatform(d.platform!));
  throw new NotFoundError(
    `${what} has no image for ${formatPlatform(want)}; it has ${available.length ? available.join(', ') : 'no platform-specific images'}`,
    available.length ? { hint: `choose one of them with --platform, e.g. --platform ${available[0]}` } : {},
  );
}
