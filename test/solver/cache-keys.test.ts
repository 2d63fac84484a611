import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ContextSource, ExecVertex, Vertex } from '../../src/graph/vertex.js';
import { ARM64, copy, run, SCRATCH, SolverFixture, workdir } from './fakes.js';

describe('solver cache keys', () => {
  let fx: SolverFixture;
  beforeEach(async () => {
    fx = await SolverFixture.create();
  });
  afterEach(() => fx.remove());

  const step = (): ExecVertex => run(workdir(SCRATCH, '/app'), ['write', '/app/out', 'one']);

  test('the same step on the same input has the same key: the next build takes it from the cache', async () => {
    const first = await fx.solver().solve(step());
    const again = await fx.solver().solve({ ...step(), description: { file: 'other/Dockerfile', line: 9, text: 'RUN  write', stage: 'x' } });
    assert.equal(again.cacheKey, first.cacheKey);
    assert.deepEqual(fx.executor.runs, [['write', '/app/out', 'one']], 'the second build ran nothing');
    assert.deepEqual(fx.steps('step-cached'), ['[Dockerfile:2] WORKDIR /app', '[other/Dockerfile:9] RUN  write']);
    assert.equal(fx.read(again, '/app/out'), 'one');
    assert.deepEqual(again.layers, first.layers);
  });

  test('a change in any field of a step, or in its input, gives a new key and runs the step', async () => {
    const base = step();
    const variants: [string, Vertex][] = [
      ['args', { ...base, args: ['write', '/app/out', 'two'] }],
      ['env', { ...base, env: [...base.env, 'A=1'] }],
      ['cwd', { ...base, cwd: '/app' }],
      ['user', { ...base, user: '0:0' }],
      ['network', { ...base, network: 'host' }],
      ['security', { ...base, security: 'insecure' }],
      ['platform', { ...base, platform: ARM64 }],
      ['mounts', { ...base, mounts: [{ type: 'tmpfs', target: '/tmp', size: undefined }] }],
      ['input', { ...base, input: workdir(SCRATCH, '/src') }],
      ['input of the input', { ...base, input: workdir(workdir(SCRATCH, '/x'), '/app') }],
    ];
    const keys = new Map<string, string>([['base', (await fx.solver().solve(base)).cacheKey]]);
    for (const [what, vertex] of variants) {
      const runsBefore = fx.executor.runs.length;
      keys.set(what, (await fx.solver().solve(vertex)).cacheKey);
      assert.equal(fx.executor.runs.length, runsBefore + 1, `a new ${what} ran the step`);
    }
    assert.equal(new Set(keys.values()).size, keys.size, `keys: ${JSON.stringify([...keys], null, 1)}`);
  });

  describe('what a COPY reads from the context is part of the key', () => {
    let dir: string;
    let context: ContextSource;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tcbuild-solver-context-'));
      await mkdir(join(dir, 'src'));
      await writeFile(join(dir, 'src', 'main.c'), 'int main;');
      context = { op: 'context', name: 'context', dir, excludes: [] };
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    test('its contents: an edited file is copied again, an untouched context is not', async () => {
      const first = await fx.solver().solve(copy(SCRATCH, context, '/app/'));
      assert.equal(fx.read(first, '/app/src/main.c'), 'int main;');
      const untouched = await fx.solver().solve(copy(SCRATCH, context, '/app/'));
      assert.equal(untouched.cacheKey, first.cacheKey);
      assert.deepEqual(fx.steps('step-start'), ['[Dockerfile:2] COPY . /app/']);

      await writeFile(join(dir, 'src', 'main.c'), 'int main(void) { return 0; }');
      const edited = await fx.solver().solve(copy(SCRATCH, context, '/app/'));
      assert.notEqual(edited.cacheKey, first.cacheKey);
      assert.equal(fx.read(edited, '/app/src/main.c'), 'int main(void) { return 0; }');
    });

    test('its file modes and names, not only contents', async () => {
      const first = (await fx.solver().solve(copy(SCRATCH, context, '/app/'))).cacheKey;
      await chmod(join(dir, 'src', 'main.c'), 0o755);
      const chmodded = (await fx.solver().solve(copy(SCRATCH, context, '/app/'))).cacheKey;
      await rename(join(dir, 'src', 'main.c'), join(dir, 'src', 'lib.c'));
      const renamed = (await fx.solver().solve(copy(SCRATCH, context, '/app/'))).cacheKey;
      assert.equal(new Set([first, chmodded, renamed]).size, 3);
    });
  });
});
