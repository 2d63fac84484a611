import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { ContextSource, ExecVertex, Vertex } from '../../src/graph/vertex.js';
import { ARM64, copy, run, SCRATCH, SolverFixture } from './fakes.js';

describe('solver cache keys', () => {
  let fx: SolverFixture;
  beforeEach(async () => {
    fx = await SolverFixture.create();
  });
  afterEach(() => fx.remove());

  const base = (text = '0'): ExecVertex => run(SCRATCH, ['write', '/base', text], 2);
  const step = (): ExecVertex => run(base(), ['write', '/out', 'one'], 3);

  test('the same step on the same input has the same key: the next build takes it from the cache', async () => {
    const first = await fx.solver().solve(step());
    const elsewhere = { file: 'other/Dockerfile', line: 9, text: 'RUN  write', stage: 'x' };
    const again = await fx.solver().solve({ ...step(), description: elsewhere });
    assert.equal(again.cacheKey, first.cacheKey);
    assert.equal(fx.executor.runs.length, 2, 'the second build ran nothing');
    assert.deepEqual(fx.steps('step-cached'), ['[Dockerfile:2] RUN write /base 0', '[other/Dockerfile:9] RUN  write']);
    assert.equal(fx.read(again, '/out'), 'one');
    assert.deepEqual(again.layers, first.layers);
  });

  test('a change in any field of a step, or in its input, gives a new key and runs the step', async () => {
    const v = step();
    const variants: [string, Vertex][] = [
      ['args', { ...v, args: ['write', '/out', 'two'] }],
      ['env', { ...v, env: [...v.env, 'A=1'] }],
      ['cwd', { ...v, cwd: '/app' }],
      ['user', { ...v, user: '0:0' }],
      ['network', { ...v, network: 'host' }],
      ['security', { ...v, security: 'insecure' }],
      ['platform', { ...v, platform: ARM64 }],
      ['mounts', { ...v, mounts: [{ type: 'tmpfs', target: '/tmp', size: undefined }] }],
      ['input', { ...v, input: base('1') }],
      [
        'input of the input',
        { ...v, input: run(run(SCRATCH, ['write', '/first', 'x'], 1), ['write', '/base', '0'], 2) },
      ],
    ];
    const keys = new Map<string, string>([['unchanged', (await fx.solver().solve(v)).cacheKey]]);
    for (const [what, vertex] of variants) {
      const runsBefore = fx.executor.runs.filter((args) => args[1] === '/out').length;
      keys.set(what, (await fx.solver().solve(vertex)).cacheKey);
      assert.equal(
        fx.executor.runs.filter((args) => args[1] === '/out').length,
        runsBefore + 1,
        `a new ${what} ran the step`,
      );
    }
    assert.equal(new Set(keys.values()).size, keys.size, `keys: ${JSON.stringify([...keys], null, 1)}`);
  });

  test("COPY --from: the key of the stage it reads is part of the step's", async () => {
    const copyFrom = (stage: Vertex) => copy(SCRATCH, stage, '/');
    const first = await fx.solver().solve(copyFrom(base('0')));
    assert.equal(fx.read(first, '/base'), '0');
    assert.equal((await fx.solver().solve(copyFrom(base('0')))).cacheKey, first.cacheKey);
    const changed = await fx.solver().solve(copyFrom(base('1')));
    assert.notEqual(changed.cacheKey, first.cacheKey);
    assert.equal(fx.read(changed, '/base'), '1');
  });

  describe('what a step reads from the build context is part of its key', () => {
    let dir: string;
    let context: ContextSource;
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'tcbuild-solver-context-'));
      await mkdir(join(dir, 'src'));
      await writeFile(join(dir, 'src', 'main.c'), 'int main;');
      await writeFile(join(dir, 'README'), 'not read');
      context = { op: 'context', name: 'context', dir, excludes: [] };
    });
    afterEach(() => rm(dir, { recursive: true, force: true }));

    // RUN --mount=type=bind,source=src,target=/src write /out built
    const build = () =>
      run(SCRATCH, ['write', '/out', 'built'], 2, {
        mounts: [{ type: 'bind', target: '/src', source: context, path: '/src', readwrite: false }],
      });

    test('its contents: an edited file runs the step again, an untouched context or another file does not', async () => {
      const first = await fx.solver().solve(build());
      await writeFile(join(dir, 'README'), 'edited, and still not read');
      assert.equal((await fx.solver().solve(build())).cacheKey, first.cacheKey);
      assert.equal(fx.executor.runs.length, 1);

      await writeFile(join(dir, 'src', 'main.c'), 'int main(void) { return 0; }');
      assert.notEqual((await fx.solver().solve(build())).cacheKey, first.cacheKey);
      assert.equal(fx.executor.runs.length, 2);
    });

    test('and so part of the key of every step after it, and of a COPY --from the stage that read it', async () => {
      const after = () => run(build(), ['write', '/after', 'x'], 3);
      const copied = () => copy(SCRATCH, build(), '/', 5);
      const keys = async () => [
        (await fx.solver().solve(after())).cacheKey,
        (await fx.solver().solve(copied())).cacheKey,
      ];
      const first = await keys();
      await writeFile(join(dir, 'src', 'main.c'), 'int main(void) { return 0; }');
      const edited = await keys();
      assert.notEqual(edited[0], first[0]);
      assert.notEqual(edited[1], first[1]);
      assert.deepEqual(
        fx.steps('step-start').filter((name) => !name.includes('/out')),
        [
          '[Dockerfile:3] RUN write /after x',
          '[Dockerfile:5] COPY / /',
          '[Dockerfile:3] RUN write /after x',
          '[Dockerfile:5] COPY / /',
        ],
      );
    });

    test('its file modes and names, not only contents', async () => {
      const first = (await fx.solver().solve(build())).cacheKey;
      await chmod(join(dir, 'src', 'main.c'), 0o755);
      const chmodded = (await fx.solver().solve(build())).cacheKey;
      await rename(join(dir, 'src', 'main.c'), join(dir, 'src', 'lib.c'));
      const renamed = (await fx.solver().solve(build())).cacheKey;
      assert.equal(new Set([first, chmodded, renamed]).size, 3);
      assert.equal(fx.executor.runs.length, 3);
    });
  });
});
