import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ContentStore } from '../../src/content/store.js';
import { NativeSnapshotter, OverlaySnapshotter, type Snapshotter } from '../../src/snapshot/index.js';
import { inMountNamespace, needsRoot } from './helpers.js';
import { commitFiles, snapshotterSuite } from './snapshotter-suite.js';

snapshotterSuite('native', (root) => new NativeSnapshotter(root));

const CHANGE = `
  echo changed > $T/etc/motd; rm $T/etc/issue; echo new > $T/etc/new
  rm -rf $T/app; mkdir $T/app; echo n > $T/app/new.js
  ln $T/bin/tool $T/bin/tool-link; chmod 4755 $T/bin/tool
  mkdir -p $T/var/cache/x; ln -s ../../etc/motd $T/var/cache/x/link
  rm $T/data; mkdir $T/data; echo inside > $T/data/f
  chown 7:7 $T/etc/keep
`;

test('native and overlay give the same layer for the same change', { skip: needsRoot }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'tcbuild-same-layer-'));
  try {
    const store = new ContentStore(join(dir, 'content'));
    const target = join(dir, 'mnt');
    await mkdir(target);
    const layerOf = async (sn: Snapshotter): Promise<string> => {
      await commitFiles(sn, 'base', undefined, {
        'etc/motd': 'hi',
        'etc/issue': 'x',
        'etc/keep': 'k',
        'app/old.js': 'o',
        'app/lib/x.js': 'x',
        'bin/tool': '#!',
        data: 'file',
      });
      await inMountNamespace(await sn.prepare('work', 'base'), target, CHANGE.replaceAll('$T', target));
      return (await sn.writeLayer('work', store, { compression: 'none', sourceDateEpoch: 1 })).descriptor.digest;
    };
    assert.equal(
      await layerOf(new NativeSnapshotter(join(dir, 'native'))),
      await layerOf(new OverlaySnapshotter(join(dir, 'overlay'))),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
