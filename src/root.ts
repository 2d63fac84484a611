import { chmod, mkdir, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { OciLayout } from './content/layout.js';
import { Lease } from './content/lease.js';
import { recoverRoot } from './content/recovery.js';
import { TcbuildError, isErrno, messageOf } from './errors.js';
import { allSnapshotters, openSnapshotter, type Snapshotter, type SnapshotterName } from './snapshot/index.js';

/** Where tcbuild keeps its state: `$TCBUILD_ROOT`, else /var/lib/tcbuild for root, else ~/.local/share/tcbuild. */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env['TCBUILD_ROOT']) return env['TCBUILD_ROOT'];
  if (process.getuid?.() === 0) return '/var/lib/tcbuild';
  return join(env['XDG_DATA_HOME'] || join(homedir(), '.local', 'share'), 'tcbuild');
}

/** Every library verb that reads or writes the local store takes this. */
export interface StoreOptions {
  /** The store's directory; default: defaultRoot(). */
  root?: string;
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
  await makePrivate(root);
  const layout = new OciLayout(root);
  await layout.init();
  const snapshotter = await openSnapshotter(root, options.snapshotter);
  const lease = Lease.of(root);
  layout.blobs.lease = lease;
  snapshotter.lease = lease;
  await recoverRoot(root, allSnapshotters(root));
  return { root, layout, snapshotter };
}

/**
 * The directories that hold image files — unpacked layers with their setuid binaries and device
 * nodes, cache mounts, RUN mount points, unpacked tarballs, layer blobs — made before any other
 * part of tcbuild makes them, so none is ever created with a wider mode.
 */
const IMAGE_DIRS = ['snapshots', 'native-snapshots', 'cache-mounts', 'run', 'tmp', 'ingest', 'blobs'];
const PRIVATE = 0o700;

/**
 * Makes the store root reachable by its owner only (0700, as containerd's /var/lib/containerd),
 * and the directories holding image files too, so that even a process that had the root open
 * (its working directory, say) before a store made by an older tcbuild was tightened cannot
 * reach them. Nothing under the root is for other users: what a container needs is mounted into
 * it, so the modes above its rootfs never matter inside.
 */
async function makePrivate(root: string): Promise<void> {
  await mkdir(dirname(root), { recursive: true });
  for (const dir of [root, ...IMAGE_DIRS.map((name) => join(root, name))]) {
    await mkdir(dir, { mode: PRIVATE }).catch((err: unknown) => {
      if (!isErrno(err, 'EEXIST')) throw err;
    });
    const st = await stat(dir);
    if (!st.isDirectory())
      throw new TcbuildError(`the tcbuild store ${root} holds ${dir}, which is not a directory`, {
        hint: 'remove it, or set TCBUILD_ROOT to another store',
      });
    if ((st.mode & 0o777) === PRIVATE) continue;
    await chmod(dir, PRIVATE).catch((err: unknown) => {
      throw new TcbuildError(
        `cannot make ${dir} of the tcbuild store private (mode ${(st.mode & 0o777).toString(8)}): ${messageOf(err)}`,
        {
          hint: `it belongs to uid ${st.uid}: run tcbuild as that user, or set TCBUILD_ROOT to a store of your own`,
        },
      );
    });
  }
}
