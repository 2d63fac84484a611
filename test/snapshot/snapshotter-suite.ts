import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { ContentStore } from '../../src/content/store.js';
import { AlreadyExistsError, InvalidInputError, NotFoundError } from '../../src/errors.js';
import {
  LayeredView,
  MOUNT_DATA_LIMIT,
  mountDataSize,
  writeLayer,
  type Snapshotter,
} from '../../src/snapshot/index.js';
import { inMountNamespace, needsRoot, run } from './helpers.js';

/** Writes `files` into a new snapshot on `parent` and commits it as `name` (no mount needed). */
export async function commitFiles(
  sn: Snapshotter,
  name: string,
  parent: string | undefined,
  files: Record<string, string>,
): Promise<void> {
  const key = `${name}-active`;
  await sn.prepare(key, parent);
  for (const [path, content] of Object.entries(files)) {
    const target = join(sn.upperDir(key), path);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, content);
  }
  await sn.commit(name, key);
}

/** The entry names of the layer of active snapshot `key`, as GNU tar lists them. */
export async function layerNames(sn: Snapshotter, key: string, store: ContentStore): Promise<string[]> {
  const layer = await sn.writeLayer(key, store, { compression: 'none' });
  const { stdout } = await run('tar', ['-tf', store.path(layer.descriptor.digest)]);
  return stdout.trim().split('\n').filter(Boolean);
}

/**
 * The behaviour every Snapshotter must have, containerd-style: run it against each implementation
 * (`create` makes one rooted at an empty directory).
 */
export function snapshotterSuite(name: string, create: (root: string) => Snapshotter): void {
  describe(`${name} snapshotter`, { skip: needsRoot }, () => {
    let dir: string;
    let sn: Snapshotter;
    let store: ContentStore;
    let target: string;

    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tcbuild-snapshotter-'));
      sn = create(join(dir, 'snapshots'));
      store = new ContentStore(join(dir, 'content'));
      target = join(dir, 'mnt');
      await mkdir(target);
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test('prepare without a parent mounts an empty writable dir whose writes land in the upper dir', async () => {
      const mounts = await sn.prepare('a');
      assert.deepEqual(await readdir(sn.upperDir('a')), []);
      await inMountNamespace(mounts, target, `echo hello > ${target}/f`);
      assert.equal(await readFile(join(sn.upperDir('a'), 'f'), 'utf8'), 'hello\n');
      assert.deepEqual(await sn.stat('a'), { name: 'a', kind: 'active', created: (await sn.stat('a'))!.created });
    });

    test('commit turns an active snapshot into a committed parent', async () => {
      await commitFiles(sn, 'base', undefined, { 'etc/hostname': 'base' });
      assert.equal(await sn.stat('base-active'), undefined);
      assert.equal((await sn.stat('base'))?.kind, 'committed');
      await sn.prepare('child', 'base');
      const info = await sn.stat('child');
      assert.equal(info?.kind, 'active');
      assert.equal(info?.parent, 'base');
    });

    test('a prepared snapshot shows the parent chain, and its layer holds only what changed', async () => {
      await commitFiles(sn, 'l1', undefined, { 'a.txt': 'one', 'shared.txt': 'from l1' });
      await commitFiles(sn, 'l2', 'l1', { 'b.txt': 'two', 'shared.txt': 'from l2' });
      const mounts = await sn.prepare('work', 'l2');
      const out = await inMountNamespace(
        mounts,
        target,
        `cat ${target}/a.txt ${target}/b.txt ${target}/shared.txt; echo new > ${target}/c.txt; echo changed > ${target}/a.txt`,
      );
      assert.equal(out, 'onetwofrom l2');
      assert.deepEqual(await layerNames(sn, 'work', store), ['a.txt', 'c.txt']);
      assert.equal(new LayeredView(sn.layerDirs('work')).readFile('/a.txt')?.toString(), 'changed\n');
      assert.equal(
        new LayeredView(sn.layerDirs('l2')).readFile('/a.txt')?.toString(),
        'one',
        'the parent is untouched',
      );
    });

    test('deleting a lower file in the mount gives a .wh. entry in the layer', async () => {
      await commitFiles(sn, 'base', undefined, { 'etc/motd': 'hi', 'etc/keep': 'k' });
      const mounts = await sn.prepare('work', 'base');
      await inMountNamespace(mounts, target, `rm ${target}/etc/motd`);
      assert.deepEqual(await layerNames(sn, 'work', store), ['etc/', 'etc/.wh.motd']);
    });

    test('replacing a directory (rm -rf + mkdir) gives an opaque whiteout', async () => {
      await commitFiles(sn, 'base', undefined, { 'app/old.js': 'old', 'app/lib/x.js': 'x' });
      const mounts = await sn.prepare('work', 'base');
      await inMountNamespace(
        mounts,
        target,
        `rm -rf ${target}/app && mkdir ${target}/app && echo n > ${target}/app/new.js`,
      );
      assert.deepEqual(await layerNames(sn, 'work', store), ['app/', 'app/.wh..wh..opq', 'app/new.js']);
    });

    test('a view is read-only and shows the whole chain', async () => {
      await commitFiles(sn, 'l1', undefined, { a: '1' });
      await commitFiles(sn, 'l2', 'l1', { b: '2' });
      for (const [key, parent, expected] of [
        ['v1', 'l1', '1'],
        ['v2', 'l2', '12'],
      ] as const) {
        const mounts = await sn.view(key, parent);
        const out = await inMountNamespace(
          mounts,
          target,
          `cat ${target}/a ${parent === 'l2' ? `${target}/b` : ''}; if touch ${target}/x 2>/dev/null; then echo WRITABLE; fi`,
        );
        assert.equal(out, expected);
        assert.equal((await sn.stat(key))?.kind, 'view');
      }
      await assert.rejects(sn.commit('nope', 'v2'), InvalidInputError);
    });

    test('mounts() returns the mounts of an existing active snapshot', async () => {
      await commitFiles(sn, 'base', undefined, { f: 'x' });
      const mounts = await sn.prepare('work', 'base');
      assert.deepEqual(await sn.mounts('work'), mounts);
      await assert.rejects(sn.mounts('base'), InvalidInputError, 'a committed snapshot is mounted through a view');
    });

    test('misuse fails with typed errors', async () => {
      await commitFiles(sn, 'base', undefined, { f: 'x' });
      await sn.prepare('active', 'base');
      await assert.rejects(sn.prepare('active'), AlreadyExistsError);
      await assert.rejects(sn.prepare('x', 'missing'), NotFoundError);
      await assert.rejects(sn.prepare('x', 'active'), InvalidInputError, 'an active snapshot cannot be a parent');
      await assert.rejects(sn.commit('base', 'active'), AlreadyExistsError);
      await assert.rejects(sn.commit('y', 'missing'), NotFoundError);
      await assert.rejects(sn.commit('y', 'base'), InvalidInputError, 'committed twice');
      await assert.rejects(sn.remove('base'), InvalidInputError, 'it has a child');
      await assert.rejects(sn.remove('missing'), NotFoundError);
      assert.equal(await sn.stat('x'), undefined, 'failed prepares leave nothing');
    });

    test('remove deletes a snapshot and its files', async () => {
      await commitFiles(sn, 'base', undefined, { f: 'x' });
      const fsDir = sn.upperDir('base');
      await sn.remove('base');
      assert.equal(await sn.stat('base'), undefined);
      await assert.rejects(stat(fsDir), { code: 'ENOENT' });
    });

    test('prune keeps what it is told to, their parents and active snapshots; recover drops abandoned ones', async () => {
      await commitFiles(sn, 'base', undefined, { f: 'x' });
      await commitFiles(sn, 'kept', 'base', { g: 'y' });
      await commitFiles(sn, 'dropped', 'base', { h: 'z' });
      await commitFiles(sn, 'other', undefined, { i: 'w' });
      await sn.prepare('work', 'other');
      const droppedFiles = sn.upperDir('dropped');
      const { removed, bytes, removeFiles } = await sn.prune(new Set(['kept']));
      assert.equal(removed, 1);
      assert.ok(bytes > 0);
      assert.deepEqual((await sn.list()).map((s) => s.name).sort(), ['base', 'kept', 'other', 'work']);
      await removeFiles();
      await assert.rejects(stat(droppedFiles), { code: 'ENOENT' });
      assert.equal(await sn.recover(true), 0, "the active snapshot's owner (this process) is alive");
      await mkdir(join(dir, 'snapshots', 'snapshots', 'leftover'));
      assert.equal(await sn.recover(false), 1, 'a directory with no record, alone on the root');
    });

    test('usage counts disk blocks and inodes, hard links once', async () => {
      await sn.prepare('a');
      const upper = sn.upperDir('a');
      await writeFile(join(upper, 'big'), randomBytes(64 * 1024));
      await run('ln', [join(upper, 'big'), join(upper, 'big-link')]);
      await mkdir(join(upper, 'd'));
      const usage = await sn.usage('a');
      assert.equal(usage.inodes, 3, 'the root, big (once), d');
      assert.ok(usage.size >= 64 * 1024 && usage.size < 3 * 64 * 1024, `size ${usage.size}`);
    });

    test('layerDirs, read as a layered view, show the snapshot without mounting it', async () => {
      await commitFiles(sn, 'l1', undefined, { a: '1' });
      await commitFiles(sn, 'l2', 'l1', { b: '2' });
      await sn.prepare('work', 'l2');
      await writeFile(join(sn.upperDir('work'), 'c'), '3');
      assert.equal(sn.layerDirs('work')[0], sn.upperDir('work'), 'the writable dir comes first');
      assert.deepEqual(new LayeredView(sn.layerDirs('work')).readdir('/'), ['a', 'b', 'c']);
      assert.deepEqual(new LayeredView(sn.layerDirs('l2')).readdir('/'), ['a', 'b']);
    });

    test('unpacked layers delete what whiteouts name and hide what opaque dirs had', async () => {
      const tree = join(dir, 'tree');
      await mkdir(join(tree, 'app/lib'), { recursive: true });
      await mkdir(join(tree, 'etc'));
      for (const f of ['app/old.js', 'app/lib/x.js', 'etc/motd', 'etc/keep']) await writeFile(join(tree, f), f);
      const base = await writeLayer(tree, store, { compression: 'gzip' });
      await sn.applyLayerAsSnapshot('base', undefined, await store.read(base.descriptor.digest), 'gzip');
      await commitFiles(sn, 'unused', 'base', {});
      const mounts = await sn.prepare('work', 'base');
      await inMountNamespace(
        mounts,
        target,
        `rm ${target}/etc/motd; rm -rf ${target}/app; mkdir ${target}/app; echo n > ${target}/app/new.js`,
      );
      const change = await sn.writeLayer('work', store, { compression: 'zstd' });
      await sn.applyLayerAsSnapshot('applied', 'base', await store.read(change.descriptor.digest), 'zstd', {
        expectedDiffId: change.diffId,
      });
      const view = new LayeredView(sn.layerDirs('applied'));
      assert.deepEqual(view.readdir('/etc'), ['keep']);
      assert.deepEqual(view.readdir('/app'), ['new.js']);
      const out = await inMountNamespace(await sn.view('v', 'applied'), target, `ls ${target}/app ${target}/etc`);
      assert.deepEqual(
        out.trim().split('\n').filter(Boolean),
        [`${target}/app:`, 'new.js', '', `${target}/etc:`, 'keep'].filter(Boolean),
      );
    });

    test('applyLayerAsSnapshot unpacks a layer into a committed snapshot', async () => {
      const src = join(dir, 'src');
      await mkdir(join(src, 'etc'), { recursive: true });
      await writeFile(join(src, 'etc/os-release'), 'ID=test\n');
      const layer = await writeLayer(src, store, { compression: 'gzip' });
      const { diffId } = await sn.applyLayerAsSnapshot(
        'base',
        undefined,
        await store.read(layer.descriptor.digest),
        'gzip',
      );
      assert.equal(diffId, layer.diffId);
      assert.equal((await sn.stat('base'))?.kind, 'committed');
      assert.equal(await readFile(join(sn.layerDirs('base')[0]!, 'etc/os-release'), 'utf8'), 'ID=test\n');

      const before = (await readdir(join(dir, 'snapshots'), { recursive: true })).length;
      await assert.rejects(
        sn.applyLayerAsSnapshot('other', 'base', await store.read(layer.descriptor.digest), 'gzip', {
          expectedDiffId: `sha256:${'0'.repeat(64)}`,
        }),
        InvalidInputError,
      );
      assert.equal(await sn.stat('other'), undefined);
      assert.equal((await readdir(join(dir, 'snapshots'), { recursive: true })).length, before, 'nothing left behind');
      await assert.rejects(
        sn.applyLayerAsSnapshot('bad', undefined, Readable.from([Buffer.from('not a tar')]), 'none'),
      );
    });

    test('concurrent prepares all land in the metadata', async () => {
      await Promise.all(Array.from({ length: 20 }, (_, i) => sn.prepare(`k${i}`)));
      for (let i = 0; i < 20; i++) assert.equal((await sn.stat(`k${i}`))?.kind, 'active');
    });

    test('a 20-layer chain mounts as one overlay, upper layers shadowing lower ones', async () => {
      let parent: string | undefined;
      for (let i = 0; i < 20; i++) {
        await commitFiles(sn, `l${i}`, parent, { [`layer${i}`]: `${i}\n`, top: `${i}\n` });
        parent = `l${i}`;
      }
      const mounts = await sn.prepare('work', parent);
      assert.equal(mounts.length, 1);
      const out = await inMountNamespace(
        mounts,
        target,
        `ls ${target} | wc -l; cat ${target}/top; cat ${target}/layer0`,
      );
      assert.deepEqual(out.trim().split('\n'), ['21', '19', '0']);
    });

    test('a 128-layer chain fits in one page of mount data and mounts', async () => {
      let parent: string | undefined;
      for (let i = 0; i < 128; i++) {
        await commitFiles(sn, `l${i}`, parent, { [`f${i}`]: String(i) });
        parent = `l${i}`;
      }
      for (const mounts of [await sn.prepare('work', parent), await sn.view('view', parent)]) {
        assert.ok(mountDataSize(mounts[0]!.options) <= MOUNT_DATA_LIMIT, `${mountDataSize(mounts[0]!.options)} bytes`);
        const out = await inMountNamespace(mounts, target, `ls ${target} | wc -l; cat ${target}/f0 ${target}/f127`);
        assert.deepEqual(out.trim().split('\n'), ['128', '0127']);
      }
    });
  });
}
