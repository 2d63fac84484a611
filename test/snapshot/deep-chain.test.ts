import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, tcbuild, tempRoot } from '../helpers/cli.js';

const STEPS = 130;

let root: string;
let context: string;
before(async () => {
  if (NEEDS_ROOT) return;
  root = await tempRoot();
  await loadFixture('busybox:latest', root);
  context = await mkdtemp(join(tmpdir(), 'tcbuild-ctx-'));
});
after(async () => {
  if (NEEDS_ROOT) return;
  await rm(root, { recursive: true, force: true });
  await rm(context, { recursive: true, force: true });
});

test(`a RUN on top of a ${STEPS}-layer chain sees every layer`, { skip: NEEDS_ROOT }, async () => {
  const steps: string[] = [];
  for (let i = 0; i < STEPS - 1; i++) {
    await writeFile(join(context, `f${i}`), `${i}\n`);
    steps.push(i % 10 === 5 ? `RUN echo ${i} > /layers-run-${i}` : `COPY f${i} /layers/`);
  }
  steps.push('RUN echo "files=$(ls /layers | wc -l) runs=$(ls / | grep -c layers-run) last=$(cat /layers/f128)"');
  await writeFile(join(context, 'Dockerfile'), `FROM busybox\n${steps.join('\n')}\n`);
  const r = await tcbuild(['build', '--progress', 'plain', '-t', 'deep:1', context], { TCBUILD_ROOT: root });
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  assert.match(r.stderr, /files=116 runs=13 last=128/);
});
