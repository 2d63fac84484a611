import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../content/atomic-file.js';
import { InvalidInputError, isErrno } from '../errors.js';
import { NativeSnapshotter } from './native-snapshotter.js';
import { OverlaySnapshotter } from './overlay.js';
import type { Snapshotter, SnapshotterName } from './snapshotter.js';

const execFileAsync = promisify(execFile);
const NAMES: readonly SnapshotterName[] = ['overlay', 'native'];

export function parseSnapshotterName(text: string): SnapshotterName {
  if ((NAMES as readonly string[]).includes(text)) return text as SnapshotterName;
  throw new InvalidInputError(`unknown snapshotter "${text}": expected ${NAMES.join(' or ')}`);
}

/**
 * The snapshotter of the store at `root`: the one asked for, else $TCBUILD_SNAPSHOTTER, else
 * overlay if an overlay mount works there (probed once per root, the answer kept in
 * `root/snapshotter`), else native. Each keeps its snapshots in a directory of its own.
 */
export async function openSnapshotter(
  root: string,
  requested?: SnapshotterName,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Snapshotter> {
  const fromEnv = env['TCBUILD_SNAPSHOTTER'];
  const name = requested ?? (fromEnv ? parseSnapshotterName(fromEnv) : await probedChoice(root));
  return allSnapshotters(root).find((s) => s.name === name)!;
}

/** Every kind of snapshotter on `root`, for recovery and prune: a root may hold both. */
export function allSnapshotters(root: string): Snapshotter[] {
  return [new OverlaySnapshotter(join(root, 'snapshots')), new NativeSnapshotter(join(root, 'native-snapshots'))];
}

async function probedChoice(root: string): Promise<SnapshotterName> {
  const record = join(root, 'snapshotter');
  try {
    return parseSnapshotterName((await readFile(record, 'utf8')).trim());
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
  const name: SnapshotterName = (await overlayMountWorks(root)) ? 'overlay' : 'native';
  await writeFileAtomic(record, `${name}\n`);
  return name;
}

/** Mounts a small overlay under `root` in a private mount namespace (nothing shows on the host). */
export async function overlayMountWorks(root: string): Promise<boolean> {
  await mkdir(root, { recursive: true });
  const dir = await mkdtemp(join(root, 'overlay-probe-'));
  try {
    for (const sub of ['lower', 'upper', 'work', 'merged']) await mkdir(join(dir, sub));
    const options = `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`;
    await execFileAsync('unshare', [
      '--mount',
      '--propagation',
      'private',
      'mount',
      '-t',
      'overlay',
      'overlay',
      '-o',
      options,
      join(dir, 'merged'),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
