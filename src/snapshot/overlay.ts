import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { AlreadyExistsError, InvalidInputError, NotFoundError, isErrno } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { LayerCompression } from '../image/media-types.js';
import { applyLayer } from './applier.js';
import { diskUsage } from './disk-usage.js';
import { MetadataStore, type SnapshotRecord, type Snapshots } from './metadata.js';
import { bindMount, overlayMount } from './mount.js';
import type { Mount, SnapshotInfo, SnapshotKind, Snapshotter, Usage } from './snapshotter.js';

/**
 * Snapshots as overlayfs layers, containerd-style. On disk, under `root`:
 *
 *     metadata.json           keys → { id, kind, parent }   (metadata.json.lock guards changes)
 *     snapshots/<id>/fs       the snapshot's own files: an upper dir while active, a lower once committed
 *     snapshots/<id>/work     overlay's work dir
 *
 * Ids are 8 characters so that a 128-layer lowerdir list, relative to `snapshots/`, fits in the
 * one page of mount data mount(2) accepts. Nothing here mounts: callers get Mount[] to mount.
 */
export class OverlaySnapshotter implements Snapshotter {
  private readonly snapshotsDir: string;
  private readonly metadata: MetadataStore;

  constructor(readonly root: string) {
    this.snapshotsDir = join(root, 'snapshots');
    this.metadata = new MetadataStore(join(root, 'metadata.json'));
  }

  prepare(key: string, parent?: string): Promise<Mount[]> {
    return this.create(key, parent, 'active');
  }

  view(key: string, parent?: string): Promise<Mount[]> {
    return this.create(key, parent, 'view');
  }

  async mounts(key: string): Promise<Mount[]> {
    return this.mountsOf(this.metadata.read(), key);
  }

  async commit(name: string, key: string): Promise<void> {
    await this.metadata.update((snapshots) => {
      const record = existing(snapshots, key);
      if (record.kind !== 'active') throw new InvalidInputError(`snapshot "${key}" is ${record.kind}: only an active snapshot can be committed`);
      if (snapshots.has(name)) throw new AlreadyExistsError(`snapshot "${name}" already exists`);
      snapshots.delete(key);
      snapshots.set(name, { ...record, kind: 'committed' });
    });
  }

  async remove(key: string): Promise<void> {
    const record = await this.metadata.update((snapshots) => {
      const found = existing(snapshots, key);
      const child = [...snapshots].find(([, r]) => r.parent === key);
      if (child) throw new InvalidInputError(`snapshot "${key}" cannot be removed: "${child[0]}" is built on it`);
      snapshots.delete(key);
      return found;
    });
    await rm(this.dirOf(record), { recursive: true, force: true });
  }

  async removeAll(): Promise<void> {
    await this.metadata.update((snapshots) => snapshots.clear());
    // Also takes directories that a crash left without a record.
    await rm(this.snapshotsDir, { recursive: true, force: true });
  }

  async stat(key: string): Promise<SnapshotInfo | undefined> {
    const record = this.metadata.read().get(key);
    if (!record) return undefined;
    return { name: key, kind: record.kind, created: record.created, ...(record.parent !== undefined ? { parent: record.parent } : {}) };
  }

  async usage(key: string): Promise<Usage> {
    return diskUsage(this.fsDir(existing(this.metadata.read(), key)));
  }

  upperDir(key: string): string {
    const record = existing(this.metadata.read(), key);
    if (record.kind === 'view') throw new InvalidInputError(`snapshot "${key}" is a view: it has no upper dir`);
    return this.fsDir(record);
  }

  layerDirs(key: string): string[] {
    const snapshots = this.metadata.read();
    const chain = chainOf(snapshots, key);
    return (existing(snapshots, key).kind === 'view' ? chain.slice(1) : chain).map((r) => this.fsDir(r));
  }

  async applyLayerAsSnapshot(
    name: string,
    parent: string | undefined,
    layer: Readable,
    compression: LayerCompression,
    options: { expectedDiffId?: Digest } = {},
  ): Promise<{ diffId: Digest }> {
    const key = `apply-${randomBytes(8).toString('hex')}`;
    await this.prepare(key, parent);
    try {
      const result = await applyLayer(layer, compression, this.upperDir(key));
      if (options.expectedDiffId !== undefined && result.diffId !== options.expectedDiffId) {
        throw new InvalidInputError(`the layer unpacks to ${result.diffId}, not the expected ${options.expectedDiffId}`);
      }
      await this.commit(name, key);
      return result;
    } catch (err) {
      await this.remove(key).catch(() => undefined);
      throw err;
    }
  }

  private async create(key: string, parent: string | undefined, kind: SnapshotKind): Promise<Mount[]> {
    const id = await this.makeSnapshotDir();
    try {
      return await this.metadata.update((snapshots) => {
        if (snapshots.has(key)) throw new AlreadyExistsError(`snapshot "${key}" already exists`);
        if (parent !== undefined) {
          const parentRecord = existing(snapshots, parent);
          if (parentRecord.kind !== 'committed') {
            throw new InvalidInputError(`snapshot "${parent}" is ${parentRecord.kind}: only a committed snapshot can be a parent`);
          }
        }
        snapshots.set(key, { id, kind, created: new Date().toISOString(), ...(parent !== undefined ? { parent } : {}) });
        return this.mountsOf(snapshots, key);
      });
    } catch (err) {
      await rm(join(this.snapshotsDir, id), { recursive: true, force: true });
      throw err;
    }
  }

  /** A new snapshots/<id> with empty fs and work dirs, under an id no other snapshot has. */
  private async makeSnapshotDir(): Promise<string> {
    await mkdir(this.snapshotsDir, { recursive: true });
    for (;;) {
      const id = randomBytes(6).toString('base64url');
      try {
        await mkdir(join(this.snapshotsDir, id));
      } catch (err) {
        if (isErrno(err, 'EEXIST')) continue;
        throw err;
      }
      await mkdir(join(this.snapshotsDir, id, 'fs'), { mode: 0o755 });
      await mkdir(join(this.snapshotsDir, id, 'work'), { mode: 0o700 });
      return id;
    }
  }

  private mountsOf(snapshots: Snapshots, key: string): Mount[] {
    const [self, ...parents] = chainOf(snapshots, key);
    const record = self!;
    if (record.kind === 'committed') throw new InvalidInputError(`snapshot "${key}" is committed: make a view of it to mount it`);
    const lowers = parents.map((r) => `${r.id}/fs`);
    if (record.kind === 'active') {
      if (lowers.length === 0) return [bindMount(this.fsDir(record), false)];
      return [overlayMount({ base: this.snapshotsDir, lowers, upper: { upper: `${record.id}/fs`, work: `${record.id}/work` } })];
    }
    if (parents.length <= 1) return [bindMount(this.fsDir(parents[0] ?? record), true)];
    return [overlayMount({ base: this.snapshotsDir, lowers })];
  }

  private dirOf(record: SnapshotRecord): string {
    return join(this.snapshotsDir, record.id);
  }

  private fsDir(record: SnapshotRecord): string {
    return join(this.dirOf(record), 'fs');
  }
}

function existing(snapshots: Snapshots, key: string): SnapshotRecord {
  const record = snapshots.get(key);
  if (!record) throw new NotFoundError(`snapshot "${key}" does not exist`);
  return record;
}

/** The snapshot and its ancestors, top first. */
function chainOf(snapshots: Snapshots, key: string): SnapshotRecord[] {
  const chain: SnapshotRecord[] = [];
  for (let k: string | undefined = key; k !== undefined; k = chain.at(-1)!.parent) chain.push(existing(snapshots, k));
  return chain;
}
