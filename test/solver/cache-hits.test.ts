import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { run, SCRATCH, SolverFixture } from './fakes.js';

describe('a cache hit is checked before it is taken', () => {
  let fx: SolverFixture;
  beforeEach(async () => {
    fx = await SolverFixture.create();
  });
  afterEach(() => fx.remove());

  const step = () => run(SCRATCH, ['write', '/out', 'made']);
  // Layers of files written at different times are the same only with their times clamped.
  const sameTimes = { sourceDateEpoch: 0 };

  test('a record whose snapshot is gone is a miss: the step runs again and the build succeeds', async () => {
    const first = await fx.solver().solve(step());
    await fx.snapshotter.remove(first.snapshot!);
    const again = await fx.solver().solve(step());
    assert.equal(fx.executor.runs.length, 2);
    assert.equal(again.cacheKey, first.cacheKey);
    assert.equal(fx.read(again, '/out'), 'made');
    assert.ok(await fx.snapshotter.stat(again.snapshot!));
    assert.deepEqual(fx.steps('step-cached'), []);
  });

  test('a record whose layer blob is gone is a miss, and the layer is written again', async () => {
    const first = await fx.solver(sameTimes).solve(step());
    const layer = first.layers[0]!.descriptor.digest;
    await fx.blobs.delete(layer);
    const again = await fx.solver(sameTimes).solve(step());
    assert.equal(fx.executor.runs.length, 2);
    assert.equal(again.layers[0]!.descriptor.digest, layer, 'the same files give the same layer');
    assert.ok(await fx.blobs.has(layer));
  });

  test('a record whose layer has another compression is a miss', async () => {
    const gzip = await fx.solver(sameTimes).solve(step());
    const plain = await fx.solver({ ...sameTimes, compression: 'none' }).solve(step());
    assert.equal(fx.executor.runs.length, 2);
    assert.equal(plain.layers[0]!.descriptor.mediaType, 'application/vnd.oci.image.layer.v1.tar');
    assert.equal(plain.layers[0]!.diffId, gzip.layers[0]!.diffId);
    await fx.solver({ compression: 'none' }).solve(step());
    assert.equal(fx.executor.runs.length, 2, 'the record of the second build is a hit for the third');
  });
});

describe('--no-cache and --no-cache-filter', () => {
  let fx: SolverFixture;
  beforeEach(async () => {
    fx = await SolverFixture.create();
  });
  afterEach(() => fx.remove());

  // FROM scratch AS base / RUN write /base / FROM base AS app / RUN write /app
  const graph = () =>
    run(run(SCRATCH, ['write', '/base', 'b'], 2, { stage: 'base' }), ['write', '/app', 'a'], 4, { stage: 'app' });

  test('--no-cache runs every step again, with the same result', async () => {
    const first = await fx.solver().solve(graph());
    const again = await fx.solver({ noCache: true }).solve(graph());
    assert.equal(fx.executor.runs.length, 4);
    assert.deepEqual(fx.steps('step-cached'), []);
    assert.equal(again.cacheKey, first.cacheKey);
    assert.notEqual(again.snapshot, first.snapshot, 'a new snapshot: the earlier one may still have children');
    assert.equal(fx.read(again, '/base'), 'b');
    assert.equal(fx.read(again, '/app'), 'a');
  });

  test('--no-cache-filter runs the named stages again and takes the others from the cache', async () => {
    await fx.solver().solve(graph());
    await fx.solver({ noCacheStages: new Set(['app']) }).solve(graph());
    assert.deepEqual(fx.executor.runs.slice(2), [['write', '/app', 'a']]);
    assert.deepEqual(fx.steps('step-cached'), ['[Dockerfile:2] RUN write /base b']);
    await fx.solver({ noCacheStages: new Set(['base']) }).solve(graph());
    assert.deepEqual(fx.executor.runs.slice(3), [['write', '/base', 'b']], 'app is a hit: its input has the same key');
  });
});
