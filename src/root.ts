import { homedir } from 'node:os';
import { join } from 'node:path';
import { OciLayout } from './content/layout.js';
import { Lease } from './content/lease.js';
import { recoverRoot } from './content/recovery.js';
import { allSnapshotters, openSnapshotter, type Snapshotter, type SnapshotterName } from './snapshot/index.js';

/** Where tcbuild keeps its state: `$TCBUILD_ROOT`, else /var/lib/tcbuild for root, else ~/.local/share/tcbuild. */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env['TCBUILD_ROOT']) return env['TCBUILD_ROOT'];
  if (process.getuid?.() === 0) return '/var/lib/tcbuild';
  return join(env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share'), 'tcbuild');
}

/** The local store's parts: an OCI layout for images (index.json + blobs) and the snapshots. */
export interface StoreRoot {
  root: string;
  layout: OciLayout;
  snapshotter: Snapshotter;
}

export interface OpenRootOptions {
  /** Default: $TCBUILD_SNAPSHOTTER, else overlay where it can mount, else native. */
  snapshotter?: SnapshotterName;
}

export async function openRoot(root = defaultRoot(), options: OpenRootOptions = {}): Promise<StoreRoot> {
  const layout = new OciLayout(root);
  await layout.init();
  const snapshotter = await openSnapshotter(root, options.snapshotter);
  const lease = Lease.of(root);
  layout.blobs.lease = lease;
  snapshotter.lease = lease;
  await recoverRoot(root, allSnapshotters(root));
  return { root, layout, snapshotter };
}
