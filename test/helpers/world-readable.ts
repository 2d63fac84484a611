import { chmod, cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO } from './cli.js';

/**
 * A world-readable copy of these repository paths (e.g. 'dist/src'), for a process that runs as
 * another user: the checkout itself may sit in a private (0700) directory such as /root.
 * The caller removes the returned directory.
 */
export async function worldReadableCopy(paths: readonly string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tcbuild-shared-'));
  await chmod(dir, 0o755);
  for (const path of paths) await cp(join(REPO, path), join(dir, path), { recursive: true });
  return dir;
}
