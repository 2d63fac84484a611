// What the workload reads: a stream fed to its stdin (`run -i`), or a
// pseudo-terminal (`run -t`) — and that neither leaves anything behind.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { PassThrough, Readable } from 'node:stream';
import { describe, test } from 'node:test';

import { resolveUser } from '../../src/sandbox/index.js';
import { run } from './harness.js';
import { busyboxOverlayPerTest, GROUP, PASSWD, skipUnlessRoot } from './rootfs.js';

async function openFds(): Promise<string[]> {
  return (await readdir('/proc/self/fd')).sort();
}

async function childProcesses(): Promise<string> {
  const tasks = await readdir('/proc/self/task');
  return (await Promise.all(tasks.map((task) => readFile(`/proc/self/task/${task}/children`, 'utf8')))).join('').trim();
}

describe('container stdio', { skip: skipUnlessRoot }, () => {
  const fx = busyboxOverlayPerTest();

  test('stdin is fed from the stream, and its end is EOF', async () => {
    const { result, stdout } = await run(fx.overlay, 'cat; echo done; readlink /proc/self/fd/0', {
      stdin: Readable.from(['hel', 'lo\n']),
    });
    assert.deepEqual(result, { exitCode: 0, signal: null });
    assert.match(stdout, /^hello\ndone\npipe:\[\d+\]\n$/);
  });

  test('a workload that does not read its stdin exits normally', async () => {
    const { result } = await run(fx.overlay, 'true', { stdin: Readable.from([Buffer.alloc(4 << 20)]) });
    assert.deepEqual(result, { exitCode: 0, signal: null });
  });

  test('tty gives a terminal of the requested size as stdin, stdout and stderr, owned by the user', async () => {
    const user = resolveUser('app', PASSWD, GROUP);
    const script =
      'tty; test -t 0 && test -t 1 && test -t 2 && echo all three; stty size; stat -c "%u %g" /dev/pts/0; echo err >&2';
    const { result, stdout, stderr } = await run(fx.overlay, script, {
      tty: true,
      consoleSize: { rows: 30, columns: 100 },
      user,
    });
    assert.deepEqual(result, { exitCode: 0, signal: null });
    assert.equal(stdout, '/dev/pts/0\r\nall three\r\n30 100\r\n1000 5\r\nerr\r\n');
    assert.equal(stderr, '');
  });

  test('tty: stdin is typed into the terminal, which is the controlling one', async () => {
    const stdin = new PassThrough();
    stdin.end('hello\n');
    const { result, stdout } = await run(
      fx.overlay,
      'read line; echo "got $line"; (: < /dev/tty) 2>/dev/null && echo controlling',
      { tty: true, stdin },
    );
    assert.deepEqual(result, { exitCode: 0, signal: null });
    assert.equal(stdout, 'hello\r\ngot hello\r\ncontrolling\r\n'); // the terminal echoes what is typed
  });

  test('nothing is left open or running after a run with stdin or a terminal', async () => {
    await run(fx.overlay, 'true'); // warms up what Node opens once
    const before = await openFds();
    await run(fx.overlay, 'cat', { stdin: Readable.from(['x\n']) });
    await run(fx.overlay, 'sleep 60 & echo started', { tty: true, stdin: new PassThrough() });
    await run(fx.overlay, 'exit 2', { tty: true });
    assert.deepEqual(await openFds(), before);
    assert.equal(await childProcesses(), '');
  });
});
