import type { OciLayout } from '../content/layout.js';
import { storeImageOrIndex } from '../content/store-image.js';
import { NotFoundError } from '../errors.js';
import type { Image } from '../image/image.js';
import { formatPlatform } from '../image/platform.js';
import type { Descriptor, Platform } from '../image/types.js';
import { imageForPlatform } from '../image/platform-select.js';
import { formatReference, parseReference, type Reference } from '../registry/reference.js';
import type { Registry, RegistryOptions } from '../registry/registry.js';

/** A registry client made on first use: a build or run from stored images never loads the registry code. */
export class LazyRegistry {
  #registry: Registry | undefined;

  constructor(private readonly options: RegistryOptions) {}

  async get(): Promise<Registry> {
    const { Registry } = await import('../registry/registry.js');
    return (this.#registry ??= new Registry(this.options));
  }

  async close(): Promise<void> {
    await this.#registry?.close();
  }
}

/** The image of one platform behind a stored name or descriptor (an index is narrowed to `platform`). */
export async function storedImage(
  layout: OciLayout,
  descriptor: Descriptor,
  platform: Platform,
  what: string,
): Promise<Image> {
  const stored = await storeImageOrIndex(layout.blobs, descriptor);
  const image = await imageForPlatform(stored, platform, what);
  if (stored.kind === 'index' && !(await layout.blobs.has(image.descriptor.digest))) {
    throw new NotFoundError(`${what} has no ${formatPlatform(platform)} image in the local store`, {
      hint: `pull it with: tcbuild pull --platform ${formatPlatform(platform)} ${what}`,
    });
  }
  return image;
}

/**
 * Finds an image as docker build does for FROM: the local store first (unless `pull`), then the
 * registry, which also stores it locally under its name.
 */
export async function localOrPulledImage(
  layout: OciLayout,
  registry: LazyRegistry,
  name: string,
  platform: Platform,
  pull: boolean,
): Promise<{ ref: Reference; image: Image }> {
  const ref = parseReference(name);
  const full = formatReference(ref);
  if (!pull) {
    const local = ref.digest ? await digestDescriptor(layout, ref) : await layout.resolve(full);
    // An index pulled for another platform may lack this one's image: then the registry has it.
    const image =
      local &&
      (await storedImage(layout, local, platform, full).catch((err: unknown) =>
        err instanceof NotFoundError ? undefined : Promise.reject(err),
      ));
    if (image) return { ref, image };
  }
  const { writeLocation } = await import('./image-location.js');
  const pulled = { source: await (await registry.get()).get(ref), what: full, names: ref.digest ? [] : [ref] };
  const [top] = await writeLocation({ kind: 'store', layout, platform }, [pulled], registry);
  return { ref, image: await storedImage(layout, top!, platform, full) };
}

async function digestDescriptor(layout: OciLayout, ref: Reference): Promise<Descriptor | undefined> {
  const entry = (await layout.list()).find((e) => e.descriptor.digest === ref.digest);
  return entry?.descriptor;
}
