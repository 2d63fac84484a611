import { NotFoundError } from '../errors.js';
import type { Image, ImageOrIndex } from './image.js';
import { isManifestMediaType } from './media-types.js';
import { formatPlatform, platformMatches } from './platform.js';
import type { Descriptor, Platform } from './types.js';

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
    `${what} has no image for ${formatPlatform(want)}; ` +
      `it has ${available.length ? available.join(', ') : 'no platform-specific images'}`,
    available.length ? { hint: `choose one of them with --platform, e.g. --platform ${available[0]}` } : {},
  );
}

/** The entries of an index to take for `platform`: its image, or every image entry for 'all'. */
export function platformEntries(manifests: Descriptor[], platform: Platform | 'all', what: string): Descriptor[] {
  if (platform === 'all') return manifests.filter((d) => isManifestMediaType(d.mediaType));
  return [selectPlatform(manifests, platform, what)];
}

/** The image of one platform: an index's entry for it, or an image as it is. */
export async function imageForPlatform(source: ImageOrIndex, platform: Platform, what: string): Promise<Image> {
  if (source.kind === 'image') return source.image;
  return source.index.image(selectPlatform(await source.index.manifests(), platform, what));
}

/** An index narrowed to one platform's image ('all': left as it is); an image as it is. */
export async function narrowToPlatform(
  source: ImageOrIndex,
  platform: Platform | 'all',
  what: string,
): Promise<ImageOrIndex> {
  return platform === 'all' ? source : { kind: 'image', image: await imageForPlatform(source, platform, what) };
}
