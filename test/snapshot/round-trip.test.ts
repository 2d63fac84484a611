import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { OciLayout } from '../../src/content/layout.js';
import { writeImage } from '../../src/export/store.js';
import type { ImageConfig } from '../../src/image/types.js';
import { applyLayer } from '../../src/snapshot/applier.js';
import { OverlaySnapshotter, type WrittenLayer } from '../../src/snapshot/index.js';
import { inMountNamespace, needsRoot, run, withTempDir } from './helpers.js';
import { describeTree } from './tree.js';

/** Each step runs in the mounted snapshot ($T) and becomes one layer. */
const STEPS = [
  `mkdir -p $T/etc $T/app/lib $T/data $T/bin $T/home/u $T/keep
   echo hello > $T/etc/motd; echo x > $T/etc/issue; echo cfg > $T/app/lib/cfg; echo old > $T/app/old.js
   echo d > $T/data/one; printf '#!/bin/sh\\n' > $T/bin/tool; chmod 4755 $T/bin/tool
   setcap cap_net_bind_service+ep $T/bin/tool; ln $T/etc/motd $T/etc/motd-link; ln -s ../etc/motd $T/keep/link
   mknod $T/keep/null c 1 3; mkfifo $T/keep/fifo; chown -R 1000:1000 $T/home/u; chmod 0750 $T/home/u
   echo k > $T/keep/file; mkdir -p $T/keep/sub; echo s > $T/keep/sub/deep`,
  `echo changed >> $T/etc/motd; rm $T/etc/issue; rm -rf $T/data; echo now-a-file > $T/data
   rm -rf $T/app; mkdir $T/app; echo new > $T/app/new.js; chmod 2755 $T/app
   ln $T/keep/file $T/keep/file-link; chown 7:7 $T/keep/file; rm $T/keep/sub/deep`,
  `rm $T/data; mkdir $T/data; echo back > $T/data/two; rm -rf $T/keep/sub; echo top > $T/etc/new
   touch -d @1500000000 $T/etc/new; chmod u-s $T/bin/tool`,
];

test(
  'a snapshot chain exported as layers and applied to an empty root — by tcbuild and by umoci — gives the same tree',
  { skip: needsRoot },
  () =>
    withTempDir(async (dir) => {
      const sn = new OverlaySnapshotter(join(dir, 'snapshots'));
      const layout = new OciLayout(join(dir, 'layout'));
      await layout.init();
      const target = join(dir, 'mnt');
      await mkdir(target);

      const layers: WrittenLayer[] = [];
      let parent: string | undefined;
      for (const [i, script] of STEPS.entries()) {
        await inMountNamespace(await sn.prepare(`step${i}`, parent), target, script.replaceAll('$T', target));
        layers.push(await sn.writeLayer(`step${i}`, layout.blobs, { compression: 'gzip' }));
        await sn.commit(`layer${i}`, `step${i}`);
        parent = `layer${i}`;
      }
      const expected = join(dir, 'expected');
      await mkdir(expected);
      await inMountNamespace(await sn.view('final', parent), target, `cp -a ${target}/. ${expected}/`);

      const applied = join(dir, 'applied');
      await mkdir(applied);
      for (const layer of layers)
        await applyLayer(await layout.blobs.read(layer.descriptor.digest), 'gzip', applied, { whiteouts: 'delete' });
      const tree = await describeTree(expected);
      assert.deepEqual(await describeTree(applied), tree);

      const config = {
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
      } as ImageConfig;
      const { manifest } = await writeImage(
        layout,
        config,
        layers.map((l) => ({ descriptor: l.descriptor, diffId: l.diffId })),
      );
      await layout.tag('localhost/round-trip:1', manifest, '1');
      await run('umoci', ['unpack', '--image', `${layout.root}:1`, join(dir, 'bundle')]);
      const umoci = await describeTree(join(dir, 'bundle', 'rootfs'));
      assert.deepEqual(umoci, tree);
    }),
);
