import { hostPlatform, parsePlatform } from '../image/platform.js';
import type { Descriptor, Platform } from '../image/types.js';
import { narrowToPlatform } from '../image/platform-select.js';
import { Registry, type RegistryOptions } from '../registry/index.js';
import { describeLocation, openLocation, parseLocation, sinkRegistry, writeLocation } from './image-location.js';

export interface CopyOptions {
  /** Copy every platform of an index (default: only `platform`'s image, as skopeo copy does). */
  allPlatforms?: boolean;
  /** os/arch[/variant]; default this host's. */
  platform?: string;
  registry?: RegistryOptions;
}

/**
 * Copies an image between registries, OCI layouts and archives, streaming blob by blob. Within
 * one registry, blobs are mounted (no layer bytes move); a copy to another tag of the same
 * repository only HEADs blobs and PUTs the manifest (a remote retag).
 */
export async function copy(
  src: string,
  dst: string,
  opts: CopyOptions = {},
): Promise<{ source: string; destination: string; descriptor: Descriptor }> {
  const from = parseLocation(src);
  const to = parseLocation(dst);
  const platform: Platform | 'all' = opts.allPlatforms
    ? 'all'
    : opts.platform
      ? parsePlatform(opts.platform)
      : hostPlatform();
  const registry = new Registry(opts.registry ?? {});
  try {
    const source = await narrowToPlatform(await openLocation(from, registry), platform, describeLocation(from));
    const [descriptor] = await writeLocation(to, [{ source, what: describeLocation(from) }], sinkRegistry(registry));
    return { source: describeLocation(from), destination: describeLocation(to), descriptor: descriptor! };
  } finally {
    await registry.close();
  }
}
