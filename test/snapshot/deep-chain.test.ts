import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { NEEDS_ROOT, tcbuild } from '../helpers/cli.js';
import { useBusyboxRoot } from './busybox-root.js';

const STEPS = 130;

const store = useBusyboxRoot();

test(`a RUN on top of a ${STEPS}-layer chain sees every layer`, { skip: NEEDS_ROOT }, async () => {
  const steps: string[] = [];
  for (let i = 0; i < STEPS - 1; i++) {
    await writeFile(join(store.context, `f${i}`), `${i}\n`);
    steps.push(i % 10 === 5 ? `RUN echo ${i} > /layers-run-${i}` : `COPY f${i} /layers/`);
  }
  steps.push('RUN echo "files=$(ls /layers | wc -l) runs=$(ls / | grep -c layers-run) last=$(cat /layers/f128)"');
  await writeFile(join(store.context, 'Dockerfile'), `FROM busybox\n${steps.join('\n')}\n`);
  const r = await tcbuild(['build', '--progress', 'plain', '-t', 'deep:1', store.context], store.env());
  assert.equal(r.code, 0, r.stderr.slice(-3000));
  assert.match(r.stderr, /files=116 runs=13 last=128/);
});
