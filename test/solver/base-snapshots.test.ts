import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { prune } from '../../src/api/prune.js';
import { writeImage } from '../../src/export/store.js';
import type { Digest } from '../../src/image/digest.js';
import type { ImageConfig } from '../../src/image/types.js';
import { openRoot, type StoreRoot } from '../../src/root.js';
import { writeLayer } from '../../src/snapshot/index.js';
import type { LayerRecord } from '../../src/solver/cache.js';
import { Solver } from '../../src/solver/solver.js';
import { baseSnapshotNames } from '../../src/solver/unpack-image.js';
import { silentProgress } from '../../src/progress/progress.js';
import { commitFiles } from '../snapshot/snapshotter-suite.js';
import { AMD64, ScriptExecutor } from './fakes.js';

test('base snapshots are named by the OCI chain ID of the layers up to them', () => {
  const digest = (text: string) => `sha256:${createHash('sha256').update(text).digest('hex')}` as Digest;
  const [a, b, c] = [digest('a'), digest('b'), digest('c')];
  const ab = digest(`${a} ${b}`);
  const abc = digest(`${ab} ${c}`);
  assert.deepEqual(
    baseSnapshotNames([a, b, c]),
    [a, ab, abc].map((d) => `layer-${d.slice('sha256:'.length)}`),
  );
  assert.deepEqual(baseSnapshotNames([]), []);
});

describe('prune and the snapshots of base images', () => {
  let root: string;
  let store: StoreRoot;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'tcbuild-base-snapshots-'));
    store = await openRoot(root, { snapshotter: 'native' });
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  /** A named three-layer image, as a pull leaves it. */
  async function namedImage(ref: string): Promise<{ manifest: Digest; diffIds: Digest[] }> {
    const layers: LayerRecord[] = [];
    for (const name of ['etc', 'usr', 'app']) {
      const tree = await mkdtemp(join(root, 'tmp', 'tree-'));
      await mkdir(join(tree, name));
      await writeFile(join(tree, name, 'file'), name);
      layers.push(await writeLayer(tree, store.layout.blobs, { compression: 'gzip' }));
      await rm(tree, { recursive: true });
    }
    const diffIds = layers.map((l) => l.diffId);
    const config = {
      architecture: 'amd64',
      os: 'linux',
      config: {},
      rootfs: { type: 'layers', diff_ids: diffIds },
    } as ImageConfig;
    const { manifest } = await writeImage(store.layout, config, layers);
    await store.layout.tag(ref, manifest, '1');
    return { manifest: manifest.digest, diffIds };
  }

  const committed = async () =>
    (await store.snapshotter.list())
      .filter((s) => s.kind === 'committed')
      .map((s) => s.name)
      .sort();

  test('prune keeps the snapshots a build unpacked a named image into, and removes an unused one', async () => {
    const ref = 'docker.io/library/base:1';
    const { manifest, diffIds } = await namedImage(ref);
    const solver = new Solver({
      root,
      blobs: store.layout.blobs,
      snapshotter: store.snapshotter,
      differ: store.snapshotter,
      executor: new ScriptExecutor(),
      progress: silentProgress,
      noCache: false,
      sourceDateEpoch: undefined,
      compressionLevel: undefined,
    });
    const solved = await solver.solve({ op: 'image', ref, manifest, platform: AMD64 });
    const names = baseSnapshotNames(diffIds);
    assert.equal(solved.snapshot, names[2]);
    await commitFiles(store.snapshotter, 'step-unused', undefined, { x: 'x' });
    assert.deepEqual(await committed(), [...names, 'step-unused'].sort());

    const pruned = await prune({ root });
    assert.equal(pruned.snapshots, 1);
    assert.deepEqual(await committed(), [...names].sort());
  });
});
