// Extra mounts of a request (bind, tmpfs, overlay) and deep overlay chains
// mounted relative to a working directory.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';

import { OverlaySnapshotter } from '../../src/snapshot/index.js';
import { mountinfo, run } from './harness.js';
import { busyboxOverlayPerTest, listDir, skipUnlessRoot } from './rootfs.js';

describe('container mounts', { skip: skipUnlessRoot }, () => {
  const fx = busyboxOverlayPerTest();
  let host: string;
  beforeEach(async () => {
    host = await mkdtemp(join(tmpdir(), 'tcbuild-mounts-'));
  });
  afterEach(async () => {
    await rm(host, { recursive: true, force: true });
  });

  test('bind mounts, read-write and read-only, of directories and files, made where missing', async () => {
    await mkdir(join(host, 'rw'));
    await mkdir(join(host, 'ro'));
    await writeFile(join(host, 'ro', 'data'), 'read me\n');
    await writeFile(join(host, 'secret'), 's3cret\n');
    const before = await mountinfo();
    const { stdout } = await run(
      fx.overlay,
      'echo hi > /out/x; cat /in/data; echo no > /in/data 2>/dev/null || echo ro; cat /run/secrets/token',
      {
        mounts: [
          { type: 'bind', source: join(host, 'rw'), destination: '/out', options: ['rbind', 'rw'] },
          { type: 'bind', source: join(host, 'ro'), destination: '/in', options: ['rbind', 'ro'] },
          { type: 'bind', source: join(host, 'secret'), destination: '/run/secrets/token', options: ['bind', 'ro'] },
        ],
      },
    );
    assert.equal(stdout, 'read me\nro\ns3cret\n');
    assert.equal(await readFile(join(host, 'rw', 'x'), 'utf8'), 'hi\n');
    assert.equal(await mountinfo(), before);
  });

  test('tmpfs with size and mode, mounted in order (a bind inside it)', async () => {
    await mkdir(join(host, 'cache'));
    const { stdout } = await run(
      fx.overlay,
      'stat -c %a /scratch; grep " /scratch " /proc/self/mounts | grep -o "size=[0-9]*k"; ls /scratch',
      {
        mounts: [
          { type: 'tmpfs', source: 'tmpfs', destination: '/scratch', options: ['size=1m', 'mode=1777'] },
          { type: 'bind', source: join(host, 'cache'), destination: '/scratch/cache', options: ['rbind'] },
        ],
      },
    );
    assert.equal(stdout, '1777\nsize=1024k\ncache\n');
    assert.deepEqual(await listDir(join(fx.overlay.upper, 'scratch')), []);
  });

  test('a read-only fx.overlay view of other directories', async () => {
    const [a, b] = [join(host, 'a'), join(host, 'b')];
    await mkdir(a);
    await mkdir(b);
    await writeFile(join(a, 'one'), '1');
    await writeFile(join(b, 'two'), '2');
    const { stdout } = await run(fx.overlay, 'ls /view; touch /view/three 2>/dev/null || echo ro', {
      mounts: [{ type: 'overlay', source: 'overlay', destination: '/view', options: ['ro', `lowerdir=${a}:${b}`] }],
    });
    assert.equal(stdout, 'one\ntwo\nro\n');
  });

  test('a mount target that is a symlink out of the root is created inside it', async () => {
    await mkdir(join(host, 'src'));
    const outside = join(host, 'outside');
    await mkdir(outside);
    await symlink(outside, join(fx.overlay.upper, 'escape'));
    await run(fx.overlay, 'true', {
      mounts: [{ type: 'bind', source: join(host, 'src'), destination: '/escape/m', options: ['rbind'] }],
    });
    assert.deepEqual(await listDir(outside), []);
  });

  test('sources given beneath a root are opened by the init itself, never through a symlink, and mounted by fd', async () => {
    const layer = join(host, 'layer');
    const outside = join(host, 'outside');
    await mkdir(join(layer, 'dir'), { recursive: true });
    await mkdir(join(host, 'lower2'));
    await mkdir(outside);
    await writeFile(join(layer, 'dir', 'file'), 'inside\n');
    await writeFile(join(host, 'lower2', 'two'), '2\n');
    await writeFile(join(outside, 'file'), 'HOST\n');
    const { stdout } = await run(fx.overlay, 'cat /f /d/file /o/file /o/two', {
      mounts: [
        {
          type: 'bind',
          source: '',
          destination: '/f',
          options: ['rbind', 'ro'],
          beneath: [{ root: layer, path: '/dir/file' }],
        },
        {
          type: 'bind',
          source: '',
          destination: '/d',
          options: ['rbind', 'ro'],
          beneath: [{ root: layer, path: 'dir' }],
        },
        {
          type: 'overlay',
          source: 'overlay',
          destination: '/o',
          options: [],
          beneath: [
            { root: layer, path: '/dir' },
            { root: join(host, 'lower2'), path: '/' },
          ],
        },
      ],
    });
    assert.equal(stdout, 'inside\ninside\ninside\n2\n');
    // What a stage could hold by the time the sandbox mounts it: links out, '..' and a symlinked parent.
    await symlink(outside, join(layer, 'link-dir'));
    await symlink(join(outside, 'file'), join(layer, 'link-file'));
    for (const [type, path] of [
      ['bind', '/link-file'],
      ['bind', '/link-dir/file'],
      ['bind', '/link-dir'],
      ['overlay', '/link-dir'],
      ['bind', '/../outside/file'],
      ['bind', '/dir/../../outside'],
    ]) {
      const mount = {
        type: type!,
        source: type === 'overlay' ? 'overlay' : '',
        destination: '/m',
        options: type === 'bind' ? ['rbind', 'ro'] : [],
        beneath: [{ root: layer, path: path! }],
      };
      await assert.rejects(
        run(fx.overlay, 'cat /m/file /m', { mounts: [mount] }),
        /open the source of \/m .*(too many levels of symbolic links|cross-device link|symbolic link)/i,
        path,
      );
    }
  });

  test('a 128-layer snapshot chain mounts (relative to its cwd) and runs', async () => {
    const snapshotter = new OverlaySnapshotter(join(host, 'store'));
    let parent: string | undefined;
    for (let i = 0; i < 128; i++) {
      const key = `active-${i}`;
      await snapshotter.prepare(key, parent);
      const upper = snapshotter.upperDir(key);
      if (i === 0) {
        await mkdir(join(upper, 'bin'));
        await writeFile(join(upper, 'bin', 'busybox'), await readFile(join(fx.lower, 'bin', 'busybox')), {
          mode: 0o755,
        });
        for (const applet of ['sh', 'ls', 'wc']) await symlink('busybox', join(upper, 'bin', applet));
      }
      await mkdir(join(upper, 'layers'), { recursive: true });
      await writeFile(join(upper, 'layers', String(i)), '');
      await snapshotter.commit(`layer-${i}`, key);
      parent = `layer-${i}`;
    }
    const rootfs = await snapshotter.prepare('top', parent);
    assert.ok(rootfs[0]!.cwd, 'a chain this deep is mounted with relative paths');
    const { stdout } = await run(fx.overlay, 'ls /layers | wc -l', { rootfs });
    assert.equal(stdout.trim(), '128');
  });
});
