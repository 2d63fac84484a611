import { InvalidInputError, NotFoundError } from '../errors.js';
import { parseIndex } from '../image/parse.js';
import type { Descriptor, Index } from '../image/types.js';

export const REF_NAME = 'org.opencontainers.image.ref.name';

/**
 * The entry of an OCI layout's index.json named `ref` (its ref.name annotation), or its only entry when no ref is
 * given.
 */
export function pickManifest(index: Index, ref: string | undefined, what: string): Descriptor {
  const manifests = index.manifests;
  if (ref !== undefined) {
    const found = manifests.find((d) => d.annotations?.[REF_NAME] === ref);
    if (!found) throw new NotFoundError(`${what} has no image named "${ref}"; it has ${names(manifests)}`);
    return found;
  }
  if (manifests.length === 1) return manifests[0]!;
  throw new InvalidInputError(
    `${what} holds ${manifests.length} images; name one of them (${names(manifests)}) after a colon`,
    {
      hint: `e.g. ${what}:${manifests[0]?.annotations?.[REF_NAME] ?? 'NAME'}`,
    },
  );
}

function names(manifests: Descriptor[]): string {
  const list = manifests.map((d) => d.annotations?.[REF_NAME]).filter((n) => n !== undefined);
  return list.length ? list.join(', ') : 'no named images';
}

export function parseIndexJson(raw: Buffer, what: string): Index {
  return parseIndex(raw, `index.json of ${what}`);
}
