import type { ImageSource } from '../image/image-source.js';
import { openBlob } from './blobs.js';
import { fetchManifest } from './manifest.js';
import type { RemoteRepository } from './repository.js';

/**
 * A repository as a source of images, read lazily: blobs stream verified (and resume where a
 * connection dropped); manifests are fetched by digest with the Accept types a registry needs.
 */
export function remoteSource(repo: RemoteRepository): ImageSource {
  return {
    what: repo.display,
    open: (descriptor) => openBlob(repo, descriptor),
    readManifest: async (descriptor) => (await fetchManifest(repo, descriptor.digest, descriptor)).raw,
    origin: { registry: repo.transport.registry, repository: repo.name },
  };
}
