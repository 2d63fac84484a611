import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { CancelledError, TcbuildError } from '../../src/errors.js';
import { DockerfileError } from '../../src/frontend/errors.js';
import type { Vertex } from '../../src/graph/vertex.js';
import { AMD64, ARM64, run, SCRATCH, SolverFixture } from './fakes.js';

describe('solver scheduling', () => {
  let fx: SolverFixture;
  beforeEach(async () => {
    fx = await SolverFixture.create();
  });
  afterEach(() => fx.remove());

  test('identical vertices of two platforms run once: a build-platform stage both targets build on', async () => {
    // FROM --platform=$BUILDPLATFORM scratch AS tools / RUN write /tool / FROM tools / RUN write /target $TARGETARCH,
    // converted once per target platform: two graphs, no object shared between them.
    const graphFor = (target: typeof AMD64): Vertex => {
      const tools = run(SCRATCH, ['write', '/tool', 'built once'], 2, { platform: AMD64 });
      return run(tools, ['write', '/target', target.architecture], 4, { platform: target });
    };
    const solver = fx.solver();
    const [amd64, arm64] = await Promise.all([solver.solve(graphFor(AMD64)), solver.solve(graphFor(ARM64))]);
    assert.deepEqual(fx.executor.runs.map((args) => args.slice(1).join(' ')).sort(), [
      '/target amd64',
      '/target arm64',
      '/tool built once',
    ]);
    assert.deepEqual(amd64.layers[0], arm64.layers[0], 'both images carry the one layer of the shared step');
    assert.equal(fx.read(amd64, '/target'), 'amd64');
    assert.equal(fx.read(arm64, '/target'), 'arm64');
    assert.equal(fx.read(arm64, '/tool'), 'built once');
  });

  test('a failing step fails the build with its line, command and output; its dependants never run', async () => {
    const failing = run(run(SCRATCH, ['write', '/src/Makefile', 'all:'], 2), ['fail', 'make: *** [all] Error 1'], 3);
    const dependant = run(failing, ['write', '/never', 'x'], 4);
    const err = await fx
      .solver()
      .solve(dependant)
      .then(
        () => assert.fail('the build succeeded'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof DockerfileError, String(err));
    assert.equal(
      err.message,
      'Dockerfile:3: RUN fail make: *** [all] Error 1: the command ["fail","make: *** [all] Error 1"] exited with code 3\n' +
        'last lines of its output:\n  make: *** [all] Error 1',
    );
    assert.deepEqual(fx.executor.runs.slice(1), [['fail', 'make: *** [all] Error 1']]);
    assert.deepEqual(
      fx.snapshotter.all().filter((s) => s.kind === 'active'),
      [],
      'the failed step left no active snapshot',
    );
  });

  test('a step the executor cannot start fails with that reason and its hint, at its line', async () => {
    const solver = fx.solver({
      executor: {
        run: () =>
          Promise.reject(new TcbuildError('cannot make the network namespace', { hint: 'install slirp4netns' })),
      },
    });
    await assert.rejects(solver.solve(run(SCRATCH, ['write', '/x', 'y'], 5)), (err: unknown) => {
      assert.ok(err instanceof DockerfileError);
      assert.equal(err.message, 'Dockerfile:5: RUN write /x y: cannot make the network namespace');
      assert.equal(err.hint, 'install slirp4netns');
      return true;
    });
  });

  test('aborting the signal kills the running step and starts no further one', { timeout: 60_000 }, async () => {
    const abort = new AbortController();
    const solving = fx
      .solver({ signal: abort.signal })
      .solve(run(run(SCRATCH, ['block'], 2), ['write', '/after', 'x'], 3));
    await fx.executor.blocking;
    abort.abort();
    await assert.rejects(solving, (err: unknown) => {
      assert.ok(err instanceof CancelledError, String(err));
      assert.equal(err.message, 'the build was cancelled while running [Dockerfile:2] RUN block');
      return true;
    });
    assert.deepEqual(fx.executor.runs, [['block']]);
    assert.deepEqual(
      fx.snapshotter.all().filter((s) => s.kind === 'active'),
      [],
      'the killed step left no active snapshot',
    );
  });

  test('a signal aborted before the solve runs nothing, not even a cached step', async () => {
    const graph = () => run(run(SCRATCH, ['write', '/a', 'a'], 2), ['write', '/b', 'b'], 3);
    await fx.solver().solve(graph().input as Vertex);
    await assert.rejects(fx.solver({ signal: AbortSignal.abort() }).solve(graph()), CancelledError);
    assert.deepEqual(fx.executor.runs, [['write', '/a', 'a']]);
    assert.deepEqual(fx.steps('step-cached'), []);
  });
});
