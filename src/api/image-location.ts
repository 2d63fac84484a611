import { OciLayout } from '../content/layout.js';
import { InvalidInputError } from '../errors.js';
import { readDockerArchive, writeDockerArchive } from '../export/docker-archive.js';
import { readOciArchive, writeOciArchive } from '../export/oci-archive.js';
import { readOciDir } from '../export/oci-dir.js';
import type { ImageOrIndex } from '../image/image.js';
import type { Descriptor } from '../image/types.js';
import { copyToStore } from '../content/copy-to-store.js';
import { familiarName, formatReference, parseReference, type Reference, type Registry } from '../registry/index.js';

/** Where an image is read from or written to, in skopeo's transport:detail syntax. */
export type ImageLocation =
  | { kind: 'registry'; ref: Reference }
  | { kind: 'oci' | 'oci-archive' | 'docker-archive'; path: string; name: string | undefined };

const FILE_KINDS = ['oci', 'oci-archive', 'docker-archive'] as const;

/** `docker://REF` or a bare REF, `oci:DIR[:NAME]`, `oci-archive:FILE[:NAME]`, `docker-archive:FILE[:NAME]`. */
export function parseLocation(text: string): ImageLocation {
  const colon = text.indexOf(':');
  const kind = colon > 0 ? text.slice(0, colon) : '';
  if (kind === 'docker') {
    if (!text.startsWith('docker://')) throw new InvalidInputError(`"${text}": write a registry image as docker://REFERENCE`);
    return { kind: 'registry', ref: parseReference(text.slice('docker://'.length)) };
  }
  const fileKind = FILE_KINDS.find((k) => k === kind);
  if (!fileKind) return { kind: 'registry', ref: parseReference(text) };
  const rest = text.slice(colon + 1);
  const sep = rest.indexOf(':');
  const path = sep < 0 ? rest : rest.slice(0, sep);
  if (path === '') throw new InvalidInputError(`"${text}": the ${fileKind} path is empty`, { hint: `e.g. ${fileKind}:./image${fileKind === 'oci' ? '' : '.tar'}` });
  return { kind: fileKind, path, name: sep < 0 || rest.slice(sep + 1) === '' ? undefined : rest.slice(sep + 1) };
}

export function describeLocation(loc: ImageLocation): string {
  return loc.kind === 'registry' ? formatReference(loc.ref) : `${loc.kind}:${loc.path}${loc.name ? `:${loc.name}` : ''}`;
}

/** Opens the image or index at a location (a registry's is read lazily, blob by blob). */
export async function openLocation(loc: ImageLocation, registry: Registry): Promise<ImageOrIndex> {
  switch (loc.kind) {
    case 'registry':
      return registry.get(loc.ref);
    case 'oci':
      return readOciDir(loc.path, loc.name);
    case 'oci-archive':
      return readOciArchive(loc.path, loc.name);
    case 'docker-archive':
      return { kind: 'image', image: (await readDockerArchive(loc.path, loc.name)).image };
  }
}

/** Writes an image or index to a location; returns the descriptor written at its top. */
export async function writeLocation(loc: ImageLocation, source: ImageOrIndex, registry: Registry): Promise<Descriptor> {
  const top = source.kind === 'image' ? source.image.descriptor : source.index.descriptor;
  switch (loc.kind) {
    case 'registry':
      return registry.push(loc.ref, source);
    case 'oci': {
      const layout = new OciLayout(loc.path);
      await layout.init();
      await copyToStore(source, layout.blobs, 'all', describeLocation(loc), registry.transferContext());
      await layout.tag(loc.name ?? 'latest', top, loc.name ?? 'latest');
      return top;
    }
    case 'oci-archive':
      await writeOciArchive(loc.path, source, loc.name);
      return top;
    case 'docker-archive': {
      if (source.kind === 'index') throw new InvalidInputError(`a docker-archive holds single-platform images: choose one with --platform, not --all-platforms`);
      const tags = loc.name ? [familiarName(parseReference(loc.name))] : [];
      await writeDockerArchive(loc.path, [{ image: source.image, tags }]);
      return top;
    }
  }
}
