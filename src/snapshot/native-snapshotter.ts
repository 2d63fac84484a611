import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ContentStore } from '../content/store.js';
import { InvalidInputError, TcbuildError } from '../errors.js';
import { writeChangesLayer, type WriteLayerOptions, type WrittenLayer } from './differ.js';
import { DirSnapshotter, existing } from './dir-snapshotter.js';
import type { SnapshotRecord, Snapshots } from './metadata.js';
import { bindMount } from './mount.js';
import type { Mount, SnapshotKind } from './snapshotter.js';
import { treeChanges } from './tree-diff.js';

const execFileAsync = promisify(execFile);

/**
 * Snapshots as whole copies, like containerd's "native" snapshotter: for where overlay cannot
 * mount. An active snapshot starts as a copy of its parent (cp -a: owners, modes, xattrs, hard
 * links, devices) and is bind-mounted; its layer is the difference of the two trees.
 */
export class NativeSnapshotter extends DirSnapshotter {
  readonly name = 'native';
  protected readonly whiteouts = 'delete';

  layerDirs(key: string): string[] {
    const snapshots = this.metadata.read();
    return [this.fsDir(this.ownOrParent(snapshots, key))];
  }

  async writeLayer(key: string, store: ContentStore, options: WriteLayerOptions): Promise<WrittenLayer> {
    const snapshots = this.metadata.read();
    const record = existing(snapshots, key);
    const parentDir = record.parent === undefined ? undefined : this.fsDir(existing(snapshots, record.parent));
    return writeChangesLayer(await treeChanges(parentDir, this.fsDir(record)), store, options);
  }

  protected override async populate(
    fsDir: string,
    parent: SnapshotRecord | undefined,
    kind: SnapshotKind,
  ): Promise<void> {
    if (parent === undefined || kind === 'view') return;
    try {
      await execFileAsync('cp', ['-a', '--reflink=auto', `${this.fsDir(parent)}/.`, `${fsDir}/`]);
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr?.trim();
      throw new TcbuildError(`cannot copy snapshot files into ${fsDir}: ${stderr || String(err)}`, { cause: err });
    }
  }

  protected mountsOf(snapshots: Snapshots, key: string): Mount[] {
    const record = existing(snapshots, key);
    if (record.kind === 'committed')
      throw new InvalidInputError(`snapshot "${key}" is committed: make a view of it to mount it`);
    return [bindMount(this.fsDir(this.ownOrParent(snapshots, key)), record.kind === 'view')];
  }

  /** A view has no files of its own: it shows its parent's (or nothing). */
  private ownOrParent(snapshots: Snapshots, key: string): SnapshotRecord {
    const record = existing(snapshots, key);
    return record.kind === 'view' && record.parent !== undefined ? existing(snapshots, record.parent) : record;
  }
}
