import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { currentOwner, isOwnerAlive } from '../content/owner.js';
import type { ContentStore } from '../content/store.js';
import { AlreadyExistsError, InvalidInputError, NotFoundError, isErrno } from '../errors.js';
import type { Digest } from '../image/digest.js';
import type { LayerCompression } from '../image/media-types.js';
import { applyLayer, type WhiteoutMode } from './applier.js';
import type { WriteLayerOptions, WrittenLayer } from './differ.js';
import { diskUsage } from './disk-usage.js';
import { MetadataStore, type SnapshotRecord, type Snapshots } from './metadata.js';
import type { Mount, SnapshotInfo, SnapshotKind, Snapshotter, SnapshotterName, Usage } from './snapshotter.js';

/**
 * What every snapshotter here shares, containerd-style. On disk, under `root`:
 *
 *     metadata.json           keys → { id, kind, parent, owner, size }   (metadata.json.lock guards changes)
 *     snapshots/<id>/fs       the snapshot's files (what a subclass makes of them is its own)
 *     snapshots/<id>/work     scratch space (overlay's work dir)
 *
 * Ids are 8 characters so that a 128-layer lowerdir list, relative to `snapshots/`, fits in the
 * one page of mount data mount(2) accepts. Nothing here mounts: callers get Mount[] to mount.
 */
export abstract class DirSnapshotter implements Snapshotter {
  abstract readonly name: SnapshotterName;
  protected readonly snapshotsDir: string;
  protected readonly metadata: MetadataStore;
  /** How layers unpacked here spell deletions: overlay's devices and xattrs, or real removals. */
  protected abstract readonly whiteouts: WhiteoutMode;
  /** Told of every snapshot this process uses — before it looks for it — so other processes' GC keeps it. */
  lease: { holdSnapshot(key: string): Promise<void> } | undefined;

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
    await this.lease?.holdSnapshot(name);
    const { size } = await diskUsage(this.upperDir(key));
    await this.metadata.update((snapshots) => {
      const record = existing(snapshots, key);
      if (record.kind !== 'active')
        throw new InvalidInputError(`snapshot "${key}" is ${record.kind}: only an active snapshot can be committed`);
      if (snapshots.has(name)) throw new AlreadyExistsError(`snapshot "${name}" already exists`);
      snapshots.delete(key);
      const { owner: _owner, ...rest } = record;
      snapshots.set(name, { ...rest, kind: 'committed', size });
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

  async list(): Promise<SnapshotInfo[]> {
    return [...this.metadata.read()].map(([key, record]) => infoOf(key, record));
  }

  async prune(keep: ReadonlySet<string>): Promise<{ removed: number; bytes: number; removeFiles(): Promise<void> }> {
    const removed = await this.metadata.update((snapshots) => {
      const kept = new Set<string>();
      for (const [key, record] of snapshots) {
        if (!keep.has(key) && record.kind === 'committed') continue;
        for (let k: string | undefined = key; k !== undefined && !kept.has(k); k = snapshots.get(k)?.parent)
          kept.add(k);
      }
      const gone = [...snapshots].filter(([key]) => !kept.has(key)).map(([key, record]) => ({ key, record }));
      for (const { key } of gone) snapshots.delete(key);
      return gone;
    });
    return {
      removed: removed.length,
      bytes: removed.reduce((sum, { record }) => sum + (record.size ?? 0), 0),
      removeFiles: async () => {
        for (const { record } of removed) await rm(this.dirOf(record), { recursive: true, force: true });
      },
    };
  }

  async recover(othersAlive: boolean): Promise<number> {
    const abandoned = await this.metadata.update((snapshots) => {
      const gone = [...snapshots].filter(
        ([, r]) => r.kind !== 'committed' && (r.owner === undefined || !isOwnerAlive(r.owner)),
      );
      for (const [key] of gone) snapshots.delete(key);
      return gone.map(([, record]) => record.id);
    });
    const known = new Set([...this.metadata.read().values()].map((r) => r.id));
    // Without other processes, a directory with no record is a crash's leftover, not one being made.
    const names = othersAlive ? abandoned : await readdir(this.snapshotsDir).catch(() => [] as string[]);
    const leftovers = names.filter((id) => !known.has(id));
    for (const id of leftovers) await rm(join(this.snapshotsDir, id), { recursive: true, force: true });
    return leftovers.length;
  }

  async stat(key: string): Promise<SnapshotInfo | undefined> {
    await this.lease?.holdSnapshot(key);
    const record = this.metadata.read().get(key);
    return record && infoOf(key, record);
  }

  async usage(key: string): Promise<Usage> {
    return diskUsage(this.fsDir(existing(this.metadata.read(), key)));
  }

  upperDir(key: string): string {
    const record = existing(this.metadata.read(), key);
    if (record.kind === 'view') throw new InvalidInputError(`snapshot "${key}" is a view: it has no upper dir`);
    return this.fsDir(record);
  }

  abstract layerDirs(key: string): string[];

  abstract writeLayer(key: string, store: ContentStore, options: WriteLayerOptions): Promise<WrittenLayer>;

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
      const result = await applyLayer(layer, compression, this.upperDir(key), { whiteouts: this.whiteouts });
      if (options.expectedDiffId !== undefined && result.diffId !== options.expectedDiffId) {
        throw new InvalidInputError(
          `the layer unpacks to ${result.diffId}, not the expected ${options.expectedDiffId}`,
        );
      }
      await this.commit(name, key);
      return result;
    } catch (err) {
      await this.remove(key).catch(() => undefined);
      throw err;
    }
  }

  private async create(key: string, parent: string | undefined, kind: SnapshotKind): Promise<Mount[]> {
    if (parent !== undefined) await this.lease?.holdSnapshot(parent);
    const id = await this.makeSnapshotDir();
    try {
      const parentRecord = parent === undefined ? undefined : this.metadata.read().get(parent);
      await this.populate(join(this.snapshotsDir, id, 'fs'), parentRecord, kind);
      return await this.metadata.update((snapshots) => {
        if (snapshots.has(key)) throw new AlreadyExistsError(`snapshot "${key}" already exists`);
        if (parent !== undefined) {
          const parentRecord = existing(snapshots, parent);
          if (parentRecord.kind !== 'committed') {
            throw new InvalidInputError(
              `snapshot "${parent}" is ${parentRecord.kind}: only a committed snapshot can be a parent`,
            );
          }
        }
        snapshots.set(key, {
          id,
          kind,
          created: new Date().toISOString(),
          owner: currentOwner(),
          ...(parent !== undefined ? { parent } : {}),
        });
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

  protected abstract mountsOf(snapshots: Snapshots, key: string): Mount[];

  /** Fills a new snapshot's fs dir before it is recorded (the native snapshotter copies the parent). */
  protected async populate(_fsDir: string, _parent: SnapshotRecord | undefined, _kind: SnapshotKind): Promise<void> {}

  protected dirOf(record: SnapshotRecord): string {
    return join(this.snapshotsDir, record.id);
  }

  protected fsDir(record: SnapshotRecord): string {
    return join(this.dirOf(record), 'fs');
  }
}

function infoOf(key: string, record: SnapshotRecord): SnapshotInfo {
  return {
    name: key,
    kind: record.kind,
    created: record.created,
    ...(record.parent !== undefined ? { parent: record.parent } : {}),
    ...(record.size !== undefined ? { size: record.size } : {}),
  };
}

export function existing(snapshots: Snapshots, key: string): SnapshotRecord {
  const record = snapshots.get(key);
  if (!record) throw new NotFoundError(`snapshot "${key}" does not exist`);
  return record;
}

/** The snapshot and its ancestors, top first. */
export function chainOf(snapshots: Snapshots, key: string): SnapshotRecord[] {
  const chain: SnapshotRecord[] = [];
  for (let k: string | undefined = key; k !== undefined; k = chain.at(-1)!.parent) chain.push(existing(snapshots, k));
  return chain;
}
