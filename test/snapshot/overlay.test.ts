import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OverlaySnapshotter } from '../../src/snapshot/index.js';
import { overlayMount } from '../../src/snapshot/mount.js';
import { snapshotterSuite } from './snapshotter-suite.js';

snapshotterSuite('overlay', (root) => new OverlaySnapshotter(root));

test('overlay mounts use absolute paths while they fit in a page, then paths relative to cwd', () => {
  const base = `/var/lib/tcbuild/${'x'.repeat(40)}/snapshots`;
  const short = overlayMount({
    base,
    lowers: ['aaaaaaaa/fs', 'bbbbbbbb/fs'],
    upper: { upper: 'cccccccc/fs', work: 'cccccccc/work' },
  });
  assert.equal(short.cwd, undefined);
  assert.ok(short.options.includes(`lowerdir=${base}/aaaaaaaa/fs:${base}/bbbbbbbb/fs`));
  assert.ok(short.options.includes(`upperdir=${base}/cccccccc/fs`));

  const lowers = Array.from({ length: 128 }, (_, i) => `${String(i).padStart(8, '0')}/fs`);
  const long = overlayMount({ base, lowers });
  assert.equal(long.cwd, base);
  assert.ok(long.options.includes('ro'));
  assert.ok(long.options.includes(`lowerdir=${lowers.join(':')}`));

  assert.throws(() => overlayMount({ base, lowers: Array.from({ length: 400 }, () => 'aaaaaaaa/fs') }), /too deep/);
});
