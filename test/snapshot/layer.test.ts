import assert from 'node:assert/strict';
import { chmod, chown, link, lstat, lutimes, mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { ContentStore } from '../../src/content/store.js';
import { sha256 } from '../../src/image/digest.js';
import { MediaType } from '../../src/image/media-types.js';
import { applyLayer, writeLayer, type WriteLayerOptions } from '../../src/snapshot/index.js';
import { fsOps } from '../../src/snapshot/native.js';
import { readTar } from '../../src/snapshot/tar-reader.js';
import { needsRoot, run, tarListing, withTempDir } from './helpers.js';
import { describeTree } from './tree.js';

const T = 1_600_000_000;

/** A tree with every kind of entry and metadata a layer must carry. */
async function makeRichTree(root: string): Promise<void> {
  const file = async (path: string, content: string, mode = 0o644, uid = 0, gid = 0): Promise<void> => {
    await writeFile(join(root, path), content);
    await chown(join(root, path), uid, gid);
    await chmod(join(root, path), mode);
  };
  for (const d of [
    'bin',
    'dev',
    'run',
    'usr/lib',
    'home/user',
    'tmp',
    'shared',
    `deep/${'d'.repeat(90)}/${'e'.repeat(90)}`,
  ]) {
    await mkdir(join(root, d), { recursive: true });
  }
  await file('bin/tool', '#!/bin/sh\n', 0o4755);
  await run('setcap', ['cap_net_bind_service+ep', join(root, 'bin/tool')]);
  await file('bin/sgid', 'x', 0o2711, 0, 50);
  await chown(join(root, 'home/user'), 1000, 1000);
  await chmod(join(root, 'home/user'), 0o750);
  await file('home/user/.profile', 'export A=1\n', 0o600, 1000, 1000);
  await chmod(join(root, 'tmp'), 0o1777);
  await chown(join(root, 'shared'), 0, 50);
  await chmod(join(root, 'shared'), 0o2775);
  await file('usr/lib/libc.so', 'ELF'.repeat(5000));
  await file('big-uid', 'x', 0o644, 3_000_000, 3_000_001);
  await file('empty', '');
  await file('ünïcødé.txt', 'unicode');
  await file(`deep/${'d'.repeat(90)}/${'e'.repeat(90)}/${'f'.repeat(120)}`, 'long');
  await link(join(root, 'usr/lib/libc.so'), join(root, 'hard1'));
  await link(join(root, 'usr/lib/libc.so'), join(root, 'bin/hard2'));
  await symlink('usr/lib', join(root, 'lib'));
  await symlink('/etc/passwd', join(root, 'abs-link'));
  await run('mkfifo', ['-m', '0620', join(root, 'run/fifo')]);
  await run('mknod', ['-m', '0666', join(root, 'dev/null'), 'c', '1', '3']);
  await run('mknod', ['-m', '0660', join(root, 'dev/loop9'), 'b', '7', '9']);
  await run('mknod', ['-m', '0600', join(root, 'dev/big'), 'c', '4095', '1048575']);
  fsOps().lsetxattr(join(root, 'usr/lib/libc.so'), 'user.comment', Buffer.from([0, 1, 2, 255]));
  await setAllTimes(root, T);
}

/** Sets every mtime under `root` (deepest first, so directories keep theirs) to `seconds` + a fraction. */
async function setAllTimes(root: string, seconds: number): Promise<void> {
  const paths: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    for (const name of await readdir(join(root, rel))) {
      const path = join(rel, name);
      paths.push(path);
      if ((await lstat(join(root, path))).isDirectory()) await visit(path);
    }
  };
  await visit('');
  for (const path of paths.reverse()) await lutimes(join(root, path), seconds + 0.25, seconds + 0.25);
}

async function entriesOf(
  store: ContentStore,
  digest: `sha256:${string}`,
  gzip: boolean,
): Promise<Array<{ name: string; mtime: number }>> {
  const { createGunzip } = await import('node:zlib');
  const raw = await store.read(digest);
  const source = gzip ? raw.pipe(createGunzip()) : raw;
  const entries: Array<{ name: string; mtime: number }> = [];
  for await (const { entry } of readTar(source)) entries.push({ name: entry.name, mtime: entry.mtime });
  return entries;
}

describe('writeLayer → applyLayer', { skip: needsRoot }, () => {
  test('a rich tree survives the round trip: modes, owners, links, devices, fifos, xattrs, long names', () =>
    withTempDir(async (dir) => {
      const src = join(dir, 'src');
      const out = join(dir, 'out');
      await mkdir(src);
      await mkdir(out);
      await makeRichTree(src);
      const store = new ContentStore(join(dir, 'store'));

      const layer = await writeLayer(src, store, { compression: 'gzip' });
      assert.equal(layer.descriptor.mediaType, MediaType.ociLayerGzip);
      assert.equal(layer.empty, false);
      const { diffId } = await applyLayer(await store.read(layer.descriptor.digest), 'gzip', out);
      assert.equal(diffId, layer.diffId);

      const expected = (await describeTree(src)).map((l) => l.replace(/mtime=\d+/, `mtime=${T}`));
      assert.deepEqual(await describeTree(out), expected);
      const again = await writeLayer(out, store, { compression: 'gzip' });
      assert.equal(again.descriptor.digest, layer.descriptor.digest, 'the extracted tree diffs to the same layer');
    }));

  test('GNU tar reads the layer: types, hard links, long names, xattrs', () =>
    withTempDir(async (dir) => {
      const src = join(dir, 'src');
      await mkdir(src);
      await makeRichTree(src);
      const store = new ContentStore(join(dir, 'store'));
      const layer = await writeLayer(src, store, { compression: 'none' });
      assert.equal(layer.descriptor.mediaType, MediaType.ociLayer);
      assert.equal(layer.descriptor.digest, layer.diffId);
      const listing = await tarListing(store.path(layer.descriptor.digest), false);
      const line = (suffix: string) =>
        listing.find((l) => l.endsWith(suffix)) ?? assert.fail(`no entry ending ${suffix} in\n${listing.join('\n')}`);
      assert.match(line(' bin/tool'), /^-rwsr-xr-x 0\/0/);
      assert.match(line(' hard1 link to bin/hard2'), /^h/, 'the first path in archive order holds the data');
      assert.match(line(' dev/null'), /^crw-rw-rw- 0\/0 +1,3 /);
      assert.match(line(' big-uid'), / 3000000\/3000001 /);
      assert.match(line(' lib -> usr/lib'), /^l/);
      assert.match(line(`/${'f'.repeat(120)}`), /^-/);
      assert.match(line(' tmp/'), /^drwxrwxrwt/);

      const extracted = join(dir, 'gnu');
      await mkdir(extracted);
      await run('tar', [
        '--xattrs',
        '--xattrs-include=*',
        '-xpf',
        store.path(layer.descriptor.digest),
        '-C',
        extracted,
      ]);
      const { stdout } = await run('getcap', [join(extracted, 'bin/tool')]);
      assert.match(stdout, /cap_net_bind_service=ep/);
    }));

  test('the same tree gives the same digest; the gzip header carries no time or name', () =>
    withTempDir(async (dir) => {
      const src = join(dir, 'src');
      await mkdir(src);
      await makeRichTree(src);
      const store = new ContentStore(join(dir, 'store'));
      const a = await writeLayer(src, store, { compression: 'gzip' });
      const b = await writeLayer(src, store, { compression: 'gzip' });
      assert.equal(a.descriptor.digest, b.descriptor.digest);
      assert.equal(a.diffId, b.diffId);
      const header = (await store.readBuffer(a.descriptor.digest)).subarray(0, 10);
      // magic, deflate, no flags, mtime 0, XFL 0 (level 6), OS 3 (Unix)
      assert.equal(header.toString('hex'), '1f8b0800000000000003');
      const fast = await writeLayer(src, store, { compression: 'gzip', level: 1 });
      assert.equal(fast.diffId, a.diffId);
      assert.notEqual(fast.descriptor.digest, a.descriptor.digest);
    }));

  test('sourceDateEpoch clamps later mtimes and keeps earlier ones', () =>
    withTempDir(async (dir) => {
      const store = new ContentStore(join(dir, 'store'));
      const trees = [join(dir, 'a'), join(dir, 'b')];
      for (const [i, root] of trees.entries()) {
        await mkdir(join(root, 'sub'), { recursive: true });
        await writeFile(join(root, 'sub/new'), 'x');
        await writeFile(join(root, 'old'), 'y');
        await setAllTimes(root, T + 1000 * (i + 1));
        await lutimes(join(root, 'old'), T - 5, T - 5);
      }
      const options: WriteLayerOptions = { compression: 'gzip', sourceDateEpoch: T };
      const [a, b] = [await writeLayer(trees[0]!, store, options), await writeLayer(trees[1]!, store, options)];
      assert.equal(a.descriptor.digest, b.descriptor.digest, 'trees differing only in later mtimes give one layer');
      const entries = await entriesOf(store, a.descriptor.digest, true);
      assert.deepEqual(entries, [
        { name: 'old', mtime: T - 5 },
        { name: 'sub/', mtime: T },
        { name: 'sub/new', mtime: T },
      ]);
    }));

  test('entries are sorted bytewise by archive path, directories with a trailing slash', () =>
    withTempDir(async (dir) => {
      const src = join(dir, 'src');
      for (const d of ['a', 'a/b', 'B']) await mkdir(join(src, d), { recursive: true });
      for (const f of ['a-b', 'a.txt', 'a/b/c', 'a/z', 'Z', 'é']) await writeFile(join(src, f), f);
      const store = new ContentStore(join(dir, 'store'));
      const layer = await writeLayer(src, store, { compression: 'none' });
      const names = (await entriesOf(store, layer.descriptor.digest, false)).map((e) => e.name);
      assert.deepEqual(names, ['B/', 'Z', 'a-b', 'a.txt', 'a/', 'a/b/', 'a/b/c', 'a/z', 'é']);
      assert.deepEqual(
        names,
        [...names].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
      );
    }));

  test('an empty directory gives an empty layer', () =>
    withTempDir(async (dir) => {
      const src = join(dir, 'src');
      await mkdir(src);
      const store = new ContentStore(join(dir, 'store'));
      const layer = await writeLayer(src, store, { compression: 'none' });
      assert.equal(layer.empty, true);
      assert.equal(layer.diffId, sha256(Buffer.alloc(1024)));
      assert.equal((await writeLayer(src, store, { compression: 'gzip' })).empty, true);
    }));

  test('overlay whiteouts and opaque dirs become OCI whiteouts and back', () =>
    withTempDir(async (dir) => {
      const upper = join(dir, 'upper');
      await mkdir(join(upper, 'etc'), { recursive: true });
      await mkdir(join(upper, 'app'));
      await writeFile(join(upper, 'app/new.js'), 'n');
      await run('mknod', [join(upper, 'etc/motd'), 'c', '0', '0']);
      await lutimes(join(upper, 'etc/motd'), 1_000_000_000, 1_000_000_000); // the whiteout's time must travel
      fsOps().lsetxattr(join(upper, 'app'), 'trusted.overlay.opaque', Buffer.from('y'));
      fsOps().lsetxattr(join(upper, 'app'), 'trusted.overlay.impure', Buffer.from('y'));
      const store = new ContentStore(join(dir, 'store'));
      const layer = await writeLayer(upper, store, { compression: 'gzip' });
      const names = (await entriesOf(store, layer.descriptor.digest, true)).map((e) => e.name);
      assert.deepEqual(names, ['app/', 'app/.wh..wh..opq', 'app/new.js', 'etc/', 'etc/.wh.motd']);

      const lower = join(dir, 'lower');
      await mkdir(lower);
      await applyLayer(await store.read(layer.descriptor.digest), 'gzip', lower);
      const tree = await describeTree(lower);
      assert.match(tree.find((l) => l.startsWith('etc/motd '))!, /^etc\/motd 20000 0:0 .* rdev=0/);
      assert.match(tree.find((l) => l.startsWith('app '))!, /trusted\.overlay\.opaque=79(\s|$)/);
      assert.doesNotMatch(tree.join('\n'), /impure/, 'other overlay xattrs are not carried');
      assert.equal(
        (await writeLayer(lower, store, { compression: 'gzip' })).descriptor.digest,
        layer.descriptor.digest,
      );
    }));

  test('uncompressed layers apply too, and the diffID covers bytes after the end-of-archive blocks', () =>
    withTempDir(async (dir) => {
      const src = join(dir, 'src');
      await mkdir(src);
      await writeFile(join(src, 'f'), 'data');
      const store = new ContentStore(join(dir, 'store'));
      const layer = await writeLayer(src, store, { compression: 'none' });
      const padded = Buffer.concat([await store.readBuffer(layer.descriptor.digest), Buffer.alloc(9216)]);
      const out = join(dir, 'out');
      await mkdir(out);
      const { diffId } = await applyLayer(Readable.from([padded]), 'none', out);
      assert.equal(diffId, sha256(padded));
      assert.deepEqual(await readdir(out), ['f']);
    }));

  test('a failing walk rejects and leaves no blob or ingest file behind', () =>
    withTempDir(async (dir) => {
      const store = new ContentStore(join(dir, 'store'));
      await assert.rejects(writeLayer(join(dir, 'missing'), store, { compression: 'gzip' }), { code: 'ENOENT' });
      assert.deepEqual(await readdir(join(dir, 'store/ingest')), []);
      assert.deepEqual(await readdir(join(dir, 'store/blobs/sha256')), []);
    }));

  test('a large file streams through without being held in memory', () =>
    withTempDir(async (dir) => {
      const src = join(dir, 'src');
      await mkdir(src);
      const size = 256 * 1024 * 1024;
      await run('truncate', ['-s', String(size), join(src, 'sparse')]);
      const store = new ContentStore(join(dir, 'store'));
      const rssBefore = process.memoryUsage().rss;
      const layer = await writeLayer(src, store, { compression: 'gzip', level: 1 });
      const grown = process.memoryUsage().rss - rssBefore;
      assert.ok(grown < 128 * 1024 * 1024, `rss grew by ${grown} bytes for a ${size}-byte file`);
      const out = join(dir, 'out');
      await mkdir(out);
      await applyLayer(await store.read(layer.descriptor.digest), 'gzip', out);
      assert.equal((await lstat(join(out, 'sparse'))).size, size);
    }));
});
