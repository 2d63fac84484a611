import { homedir } from 'node:os';
import { join } from 'node:path';
import { OciLayout } from './content/layout.js';
import { OverlaySnapshotter } from './snapshot/index.js';

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
  snapshotter: OverlaySnapshotter;
}

export async function openRoot(root = defaultRoot()): Promise<StoreRoot> {
  const layout = new OciLayout(root);
  await layout.init();
  return { root, layout, snapshotter: new OverlaySnapshotter(join(root, 'snapshots')) };
}
