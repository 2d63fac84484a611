// Without root, a container is refused with a message saying why and what to do.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';

import { worldReadableCopy } from '../helpers/world-readable.js';
import { skipUnlessRoot } from './rootfs.js';

test('a non-root user is told that rootless sandboxes need root for now', { skip: skipUnlessRoot }, async () => {
  const copy = await worldReadableCopy(['package.json', 'dist/src', 'build/Release/tcbuild_native.node']);
  try {
    const sandbox = join(copy, 'dist/src/sandbox/index.js');
    const script = `import(${JSON.stringify(sandbox)}).then((m) => m.runContainer({ rootfs: [{ type: 'bind', source: '/', destination: '/', options: ['rbind'] }], mountpoint: '/tmp', args: ['true'], env: [], cwd: '/', user: { uid: 0, gid: 0, additionalGids: [] }, hostname: 'x', network: 'none' })).catch((e) => console.log(e.message))`;
    const out = execFileSync(
      'setpriv',
      ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script],
      { encoding: 'utf8', cwd: '/tmp' },
    );
    assert.match(
      out,
      /^running a container needs root: rootless sandboxes .* are not implemented yet; run tcbuild as root/,
    );
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
});
