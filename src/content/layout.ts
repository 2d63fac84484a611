import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cannotWrite, isErrno } from '../errors.js';
import type { Digest } from '../image/digest.js';
import { allBlobs, imageContents } from '../image/image-contents.js';
import type { ImageOrIndex } from '../image/image.js';
import { MediaType, isIndexMediaType, isManifestMediaType } from '../image/media-types.js';
import { parseIndex } from '../image/parse.js';
import { openImageOrIndex } from '../image/source-image.js';
import type { Descriptor, Index } from '../image/types.js';
import { writeFileAtomic } from './atomic-file.js';
import { withLock } from './lock.js';
import { makeDirectories } from './make-directories.js';
import { storeSource } from './store-image.js';
import { ContentStore } from './store.js';

/** containerd's annotation for the full image name; the OCI one holds just the tag. */
export const IMAGE_NAME_ANNOTATION = 'io.containerd.image.name';
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

export interface NamedDescriptor {
  name: string;
  descriptor: Descriptor;
}

/**
 * An OCI image layout (oci-layout, index.json, blobs/sha256), read and written: the local image
 * store, and every oci:DIR. Each named image is one entry of index.json carrying its full name
 * (and its tag as ref.name); updates are locked and atomic.
 */
export class OciLayout {
  readonly blobs: ContentStore;
  private readonly indexPath: string;

  constructor(readonly root: string) {
    this.blobs = new ContentStore(root);
    this.indexPath = join(root, 'index.json');
  }

  async init(): Promise<void> {
    await makeDirectories(join(this.root, 'blobs', 'sha256')).catch((err: unknown) => {
      throw cannotWrite(this.root, err);
    });
    try {
      await readFile(join(this.root, 'oci-layout'));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
      await writeFileAtomic(join(this.root, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    }
  }

  async readIndex(): Promise<Index> {
    return this.parseIndexText(await this.readIndexText());
  }

  /** index.json's text; undefined when there is none yet. */
  private async readIndexText(): Promise<string | undefined> {
    try {
      return await readFile(this.indexPath, 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async list(): Promise<NamedDescriptor[]> {
    const index = await this.readIndex();
    return index.manifests.flatMap((d) => {
      const name = d.annotations?.[IMAGE_NAME_ANNOTATION];
      return name ? [{ name, descriptor: d }] : [];
    });
  }

  async resolve(name: string): Promise<Descriptor | undefined> {
    return (await this.list()).find((e) => e.name === name)?.descriptor;
  }

  /**
   * Points `name` at `descriptor` (replacing what it pointed at), as `docker tag` does. Every blob
   * it reaches is looked up first, so this process's lease holds them until the name does.
   */
  async tag(name: string, descriptor: Descriptor, tag: string | undefined): Promise<void> {
    await this.reachableBlobs([descriptor]);
    await this.update((manifests) => {
      const annotations: Record<string, string> = { ...descriptor.annotations, [IMAGE_NAME_ANNOTATION]: name };
      if (tag !== undefined) annotations[REF_NAME_ANNOTATION] = tag;
      const entry: Descriptor = {
        mediaType: descriptor.mediaType,
        digest: descriptor.digest,
        size: descriptor.size,
        annotations,
      };
      if (descriptor.platform) entry.platform = descriptor.platform;
      return [...manifests.filter((d) => d.annotations?.[IMAGE_NAME_ANNOTATION] !== name), entry];
    });
  }

  /** Removes the names; returns the descriptors that were removed. */
  async untag(names: string[]): Promise<Descriptor[]> {
    const removed: Descriptor[] = [];
    await this.update((manifests) =>
      manifests.filter((d) => {
        const hit = names.includes(d.annotations?.[IMAGE_NAME_ANNOTATION] ?? '');
        if (hit) removed.push(d);
        return !hit;
      }),
    );
    return removed;
  }

  /**
   * The image named `name` (its ref.name annotation), or the only one, of a layout another tool
   * may have written: index.json and blobs are opened beneath the root, never through a symlink.
   */
  async image(name: string | undefined): Promise<ImageOrIndex> {
    const { readOciDir } = await import('../export/oci-dir.js');
    return readOciDir(this.root, name);
  }

  /** Every blob here reachable from the descriptors (indexes, manifests, configs, layers) with its size. */
  async reachableBlobs(roots: Descriptor[]): Promise<Map<Digest, number>> {
    const seen = new Map<Digest, number>();
    const present = (d: Descriptor): Promise<boolean> => this.blobs.has(d.digest);
    for (const root of roots) {
      if (!isIndexMediaType(root.mediaType) && !isManifestMediaType(root.mediaType)) {
        if (await present(root)) seen.set(root.digest, root.size);
        continue;
      }
      const contents = await imageContents(openImageOrIndex(storeSource(this.blobs), root), { present });
      for (const { descriptor } of allBlobs(contents)) seen.set(descriptor.digest, descriptor.size);
    }
    return seen;
  }

  private async update(change: (manifests: Descriptor[]) => Descriptor[]): Promise<void> {
    await this.init();
    await withLock(`${this.indexPath}.lock`, async () => {
      const before = await this.readIndexText();
      const index = this.parseIndexText(before);
      const manifests = change(index.manifests).sort((a, b) =>
        (a.annotations?.[IMAGE_NAME_ANNOTATION] ?? '').localeCompare(b.annotations?.[IMAGE_NAME_ANNOTATION] ?? ''),
      );
      const after = `${JSON.stringify({ ...index, manifests }, null, 2)}\n`;
      // A rebuild re-tags its name with the same image: an unchanged index is not rewritten.
      if (after !== before) await writeFileAtomic(this.indexPath, after);
    });
  }

  /**
   * Every entry checked as any index's are: a digest in it names a blob file. The store may name any number of images.
   */
  private parseIndexText(text: string | undefined): Index {
    if (text === undefined) return { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
    return parseIndex(Buffer.from(text), `the list of images ${this.indexPath}`, Infinity);
  }
}
