import type { Digest } from '../image/digest.js';
import { isIndexMediaType } from '../image/media-types.js';
import { parseIndex, parseManifest } from '../image/parse.js';
import type { Descriptor, ImageConfig, Index, Manifest } from '../image/types.js';
import { formatReference, parseReference, Registry, type Referrer, type RegistryOptions } from '../registry/index.js';

export interface RemoteOptions {
  registry?: RegistryOptions;
}

/** Runs `fn` with a Registry client that is closed afterwards. */
export async function withRegistry<T>(opts: RemoteOptions, fn: (registry: Registry) => Promise<T>): Promise<T> {
  const registry = new Registry(opts.registry ?? {});
  try {
    return await fn(registry);
  } finally {
    await registry.close();
  }
}

export interface RemoteInspectResult {
  name: string;
  descriptor: Descriptor;
  manifest?: Manifest;
  index?: Index;
  config?: ImageConfig;
}

/** A registry image's descriptor, manifest (or index) and config, as `inspect` shows stored ones. */
export async function inspectRemote(name: string, opts: RemoteOptions = {}): Promise<RemoteInspectResult> {
  const ref = parseReference(name);
  return withRegistry(opts, async (registry) => {
    const { descriptor, raw } = await registry.rawManifest(ref);
    const what = `the manifest of ${formatReference(ref)}`;
    if (isIndexMediaType(descriptor.mediaType))
      return { name: formatReference(ref), descriptor, index: parseIndex(raw, what) };
    const manifest = parseManifest(raw, what);
    const found = await registry.get({ ...ref, digest: descriptor.digest });
    const config = found.kind === 'image' ? await found.image.config() : undefined;
    return { name: formatReference(ref), descriptor, manifest, ...(config ? { config } : {}) };
  });
}

/** The manifest or index exactly as the registry serves it (`inspect --remote --raw`). */
export async function rawManifest(name: string, opts: RemoteOptions = {}): Promise<Buffer> {
  return withRegistry(opts, async (registry) => (await registry.rawManifest(parseReference(name))).raw);
}

export async function digest(name: string, opts: RemoteOptions = {}): Promise<Digest> {
  return withRegistry(opts, async (registry) => (await registry.resolve(parseReference(name))).digest);
}

export async function listTags(repository: string, opts: RemoteOptions = {}): Promise<string[]> {
  return withRegistry(opts, (registry) => registry.listTags(parseReference(repository)));
}

export async function catalog(host: string, opts: RemoteOptions = {}): Promise<string[]> {
  return withRegistry(opts, (registry) => registry.catalog(host));
}

/** Deletes an image's manifest from its registry; returns the digest deleted. */
export async function deleteRemote(name: string, opts: RemoteOptions = {}): Promise<Digest> {
  return withRegistry(opts, (registry) => registry.delete(parseReference(name)));
}

export async function referrers(
  name: string,
  opts: RemoteOptions & { artifactType?: string } = {},
): Promise<Referrer[]> {
  return withRegistry(opts, (registry) => registry.referrers(parseReference(name), opts.artifactType));
}
