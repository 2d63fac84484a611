// A separate tcbuild-like process for lifecycle tests: runs `sh -c SCRIPT` in
// a sandbox over an overlay of LOWER, then exits with the container's code.
import { runContainer } from '../../src/sandbox/index.js';
import { makeOverlay } from './rootfs.js';

const [lower, script] = process.argv.slice(2);
const overlay = await makeOverlay(lower!);
try {
  const result = await runContainer({
    rootfs: overlay.rootfs,
    mountpoint: overlay.mountpoint,
    args: ['sh', '-c', script!],
    env: ['PATH=/bin'],
    cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: 'lifecycle',
    network: 'none',
    stdout: process.stdout,
    stderr: process.stderr,
  });
  process.exitCode = result.exitCode ?? 1;
} finally {
  await overlay.remove();
}
