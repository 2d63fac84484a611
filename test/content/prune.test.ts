import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { collectGarbage, parseSize, prune, usage } from '../../src/api/prune.js';
import { writeImage } from '../../src/export/store.js';
import { digestHex, sha256, type Digest } from '../../src/image/digest.js';
import type { ImageConfig } from '../../src/image/types.js';
import { openRoot, type StoreRoot } from '../../src/root.js';
import { needsRoot } from '../snapshot/helpers.js';
import { commitFiles } from '../snapshot/snapshotter-suite.js';
import { writeLayer } from '../../src/snapshot/index.js';
import { baseSnapshotNames } from '../../src/solver/unpack-image.js';

const rootModule = fileURLToPath(new URL('../../src/root.js', import.meta.url));

/** A store with a named image (unpacked), one cached step on it, and an unused snapshot and blob. */
async function populate(store: StoreRoot): Promise<{ cachedBlob: Digest; orphanBlob: Digest; imageBlobs: Digest[] }> {
  const tree = join(store.root, 'tmp-tree');
  await mkdir(tree, { recursive: true });
  await writeFile(join(tree, 'hello'), 'hi');
  const { snapshotter, layout } = store;
  const layer = await writeLayer(tree, layout.blobs, { compression: 'gzip' });
  const [base] = baseSnapshotNames([layer.diffId]);
  await snapshotter.applyLayerAsSnapshot(base!, undefined, await layout.blobs.read(layer.descriptor.digest), 'gzip');
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
  } as ImageConfig;
  const { manifest: descriptor } = await writeImage(layout, config, [
    { descriptor: layer.descriptor, diffId: layer.diffId },
  ]);
  await layout.tag('docker.io/library/base:1', descriptor, '1');

  await commitFiles(snapshotter, 'step-cached', base, { 'app/x': 'x' });
  const cached = await layout.blobs.writeBuffer(Buffer.from('cached layer'));
  await mkdir(join(store.root, 'cache'), { recursive: true });
  await writeFile(
    join(store.root, 'cache', digestHex(sha256('key'))),
    JSON.stringify({
      snapshot: 'step-cached',
      layer: { descriptor: { mediaType: 'x', digest: cached.digest, size: cached.size }, diffId: cached.digest },
    }),
  );
  await commitFiles(snapshotter, 'step-orphan', undefined, { y: 'y' });
  const orphan = await layout.blobs.writeBuffer(Buffer.from('orphan'));
  await rm(tree, { recursive: true });
  return {
    cachedBlob: cached.digest,
    orphanBlob: orphan.digest,
    imageBlobs: [descriptor.digest, layer.descriptor.digest],
  };
}

describe('prune, usage and GC', { skip: needsRoot }, () => {
  let root: string;
  let store: StoreRoot;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tcbuild-prune-'));
    store = await openRoot(root, { snapshotter: 'overlay' });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const snapshotNames = async (): Promise<string[]> =>
    (await store.snapshotter.list())
      .filter((s) => s.kind === 'committed')
      .map((s) => s.name)
      .sort();

  test('prune removes what nothing refers to; --all removes all build cache; named images stay', async () => {
    const blobs = await populate(store);
    const before = await usage({ root });
    assert.equal(before.buildCache.records, 1);
    assert.ok(before.images.bytes > 0 && before.buildCache.bytes > 0);

    const pruned = await prune({ root });
    assert.deepEqual([pruned.cacheRecords, pruned.snapshots, pruned.blobs], [0, 1, 1]);
    assert.ok(!(await snapshotNames()).includes('step-orphan'));
    assert.ok(await store.layout.blobs.has(blobs.cachedBlob));
    assert.equal(await store.layout.blobs.has(blobs.orphanBlob), false);

    const all = await prune({ root, all: true });
    assert.equal(all.cacheRecords, 1);
    assert.deepEqual(await snapshotNames(), []);
    assert.equal(await store.layout.blobs.has(blobs.cachedBlob), false);
    for (const d of blobs.imageBlobs) assert.ok(await store.layout.blobs.has(d), `${d} of the named image stays`);
    assert.equal((await usage({ root })).buildCache.bytes, 0);
  });

  test('what a live process holds survives prune --all until it dies', async () => {
    const blobs = await populate(store);
    const holder = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `
      const { openRoot } = await import(${JSON.stringify(rootModule)});
      const store = await openRoot(${JSON.stringify(root)}, { snapshotter: 'overlay' });
      await store.snapshotter.stat('step-cached');
      await store.layout.blobs.has(${JSON.stringify(blobs.cachedBlob)});
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);
    `,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()));
    try {
      await prune({ root, all: true });
      const kept = await snapshotNames();
      assert.equal(kept.length, 2, 'the held snapshot and its parent');
      assert.ok(kept.includes('step-cached'));
      assert.ok(await store.layout.blobs.has(blobs.cachedBlob));
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    await prune({ root, all: true });
    assert.deepEqual(await snapshotNames(), []);
    assert.equal(await store.layout.blobs.has(blobs.cachedBlob), false);
  });

  test('GC drops the oldest cache records until the cache fits, then what only they used', async () => {
    const blobs = await populate(store);
    assert.equal(
      await collectGarbage({ root, keepBytes: Number.MAX_SAFE_INTEGER }),
      undefined,
      'under the limit: nothing to do',
    );
    const result = await collectGarbage({ root, keepBytes: 0 });
    assert.equal(result?.cacheRecords, 1);
    assert.equal(await store.layout.blobs.has(blobs.cachedBlob), false);
    for (const d of blobs.imageBlobs) assert.ok(await store.layout.blobs.has(d));
  });

  test('sizes are read with units', () => {
    assert.equal(parseSize('10GB'), 10e9);
    assert.equal(parseSize('512MiB'), 512 * 1024 ** 2);
    assert.equal(parseSize('1000'), 1000);
    assert.throws(() => parseSize('lots'), /not a size/);
  });
});
