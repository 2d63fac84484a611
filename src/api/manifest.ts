import { canonicalJson } from '../graph/vertex.js';
import { NotFoundError, TcbuildError } from '../errors.js';
import type { Image, ImageIndex } from '../image/image.js';
import { isManifestMediaType, MediaType } from '../image/media-types.js';
import type { Descriptor, Index, Platform } from '../image/types.js';
import { formatReference, parseReference, type Registry, type RegistryOptions } from '../registry/index.js';
import { withRegistry } from './remote.js';
import { openRoot, type StoreOptions } from '../root.js';
import { sha256 } from '../image/digest.js';
import { parseIndex } from '../image/parse.js';

/**
 * Manifest lists assembled from images already in a registry (docker manifest / crane index
 * append): the list is kept in the local store as an OCI index whose children stay remote — each
 * child descriptor names where it lives in SOURCE_ANNOTATION, which is dropped when pushing.
 */
export const SOURCE_ANNOTATION = 'dev.tcbuild.manifest.source';

export interface ManifestOptions extends StoreOptions {
  registry?: RegistryOptions;
}

export interface PlatformAnnotations {
  os?: string;
  arch?: string;
  variant?: string;
  osVersion?: string;
  osFeatures?: string[];
  annotations?: Record<string, string>;
}

/**
 * The descriptors an image reference contributes: one for an image (platform from its config), every child of an index.
 */
async function remoteDescriptors(registry: Registry, name: string): Promise<Descriptor[]> {
  const ref = parseReference(name);
  const source = await registry.get(ref);
  const repo = `${ref.registry}/${ref.repository}`;
  if (source.kind === 'index') {
    return (await source.index.manifests())
      .filter((d) => isManifestMediaType(d.mediaType))
      .map((d) => ({ ...d, annotations: { ...d.annotations, [SOURCE_ANNOTATION]: `${repo}@${d.digest}` } }));
  }
  const config = await source.image.config();
  const platform: Platform = {
    os: config.os,
    architecture: config.architecture,
    ...(config.variant ? { variant: config.variant } : {}),
  };
  const d = source.image.descriptor;
  return [
    {
      mediaType: d.mediaType,
      digest: d.digest,
      size: d.size,
      platform,
      annotations: { [SOURCE_ANNOTATION]: `${repo}@${d.digest}` },
    },
  ];
}

async function readList(name: string, opts: ManifestOptions): Promise<{ full: string; index: Index }> {
  const { layout } = await openRoot(opts.root);
  const full = formatReference(parseReference(name));
  const descriptor = await layout.resolve(full);
  if (!descriptor || descriptor.mediaType !== MediaType.ociIndex) {
    throw new NotFoundError(`no manifest list "${name}" in the local store`, {
      hint: `create it with: tcbuild manifest create ${name} IMAGE...`,
    });
  }
  return { full, index: parseIndex(await layout.blobs.readBuffer(descriptor.digest), `manifest list "${name}"`) };
}

async function saveList(name: string, index: Index, opts: ManifestOptions): Promise<Descriptor> {
  const { layout } = await openRoot(opts.root);
  const ref = parseReference(name);
  const info = await layout.blobs.writeBuffer(Buffer.from(canonicalJson(index)));
  const descriptor: Descriptor = { mediaType: MediaType.ociIndex, digest: info.digest, size: info.size };
  await layout.tag(formatReference(ref), descriptor, ref.tag);
  return descriptor;
}

function merge(existing: Descriptor[], added: Descriptor[]): Descriptor[] {
  const digests = new Set(added.map((d) => d.digest));
  return [...existing.filter((d) => !digests.has(d.digest)), ...added];
}

export async function manifestCreate(
  list: string,
  images: string[],
  opts: ManifestOptions & { amend?: boolean } = {},
): Promise<Descriptor> {
  const existing = opts.amend ? ((await readList(list, opts).catch(() => undefined))?.index.manifests ?? []) : [];
  const added = await withRegistry(opts, async (registry) =>
    (await Promise.all(images.map((i) => remoteDescriptors(registry, i)))).flat(),
  );
  return saveList(list, { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: merge(existing, added) }, opts);
}

export async function manifestAdd(list: string, image: string, opts: ManifestOptions = {}): Promise<Descriptor> {
  const { index } = await readList(list, opts);
  const added = await withRegistry(opts, (registry) => remoteDescriptors(registry, image));
  return saveList(list, { ...index, manifests: merge(index.manifests, added) }, opts);
}

/** Finds the child an image reference or digest names. */
function childIndex(index: Index, image: string): number {
  const digest = image.includes('@') ? image.slice(image.indexOf('@') + 1) : image;
  const i = index.manifests.findIndex(
    (d) => d.digest === digest || d.annotations?.[SOURCE_ANNOTATION]?.endsWith(`@${digest}`),
  );
  if (i >= 0) return i;
  throw new NotFoundError(`"${image}" is not in the list`, {
    hint: 'name the child by IMAGE@sha256:DIGEST or its digest; tcbuild manifest inspect LIST shows them',
  });
}

export async function manifestAnnotate(
  list: string,
  image: string,
  a: PlatformAnnotations,
  opts: ManifestOptions = {},
): Promise<Descriptor> {
  const { index } = await readList(list, opts);
  const i = childIndex(
    index,
    image.includes('@') || image.startsWith('sha256:')
      ? image
      : await withRegistry(opts, async (r) => (await r.resolve(parseReference(image))).digest),
  );
  const child = index.manifests[i]!;
  const platform: Platform = { ...(child.platform ?? { os: 'linux', architecture: 'amd64' }) };
  if (a.os) platform.os = a.os;
  if (a.arch) platform.architecture = a.arch;
  if (a.variant) platform.variant = a.variant;
  if (a.osVersion) platform['os.version'] = a.osVersion;
  if (a.osFeatures) platform['os.features'] = a.osFeatures;
  const manifests = [...index.manifests];
  manifests[i] = { ...child, platform, annotations: { ...child.annotations, ...a.annotations } };
  return saveList(list, { ...index, manifests }, opts);
}

/** The list as it will be pushed (internal annotations dropped). */
export async function manifestInspect(list: string, opts: ManifestOptions = {}): Promise<Index> {
  return publicIndex((await readList(list, opts)).index);
}

function publicIndex(index: Index): Index {
  return {
    ...index,
    manifests: index.manifests.map((d) => {
      const { [SOURCE_ANNOTATION]: _source, ...rest } = d.annotations ?? {};
      const { annotations: _a, ...descriptor } = d;
      return Object.keys(rest).length ? { ...descriptor, annotations: rest } : descriptor;
    }),
  };
}

/**
 * Pushes the list to `destination` (default: its own name); children are copied (by mount) only where the target
 * repository lacks them.
 */
export async function manifestPush(
  list: string,
  destination: string | undefined,
  opts: ManifestOptions & { purge?: boolean } = {},
): Promise<Descriptor> {
  const { full, index } = await readList(list, opts);
  const target = parseReference(destination ?? full);
  if (index.manifests.length === 0)
    throw new TcbuildError(`manifest list "${list}" is empty`, {
      hint: 'add images with: tcbuild manifest add LIST IMAGE',
    });
  const pushed = await withRegistry(opts, async (registry) => {
    const raw = Buffer.from(canonicalJson(publicIndex(index)));
    const remote: ImageIndex = {
      descriptor: { mediaType: MediaType.ociIndex, digest: sha256(raw), size: raw.length },
      rawIndex: async () => raw,
      manifests: async () => publicIndex(index).manifests,
      image: async (d): Promise<Image> => {
        const source = index.manifests.find((m) => m.digest === d.digest)?.annotations?.[SOURCE_ANNOTATION];
        if (!source) throw new TcbuildError(`child ${d.digest} of "${list}" has no source repository`);
        const found = await registry.get(parseReference(source));
        if (found.kind !== 'image') throw new TcbuildError(`${source} is not an image manifest`);
        return found.image;
      },
    };
    return registry.push(target, { kind: 'index', index: remote });
  });
  if (opts.purge) await manifestRm([list], opts);
  return pushed;
}

export async function manifestRm(lists: string[], opts: ManifestOptions = {}): Promise<void> {
  const { layout } = await openRoot(opts.root);
  for (const list of lists) await readList(list, opts);
  await layout.untag(lists.map((l) => formatReference(parseReference(l))));
}
