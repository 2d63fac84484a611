// `tcbuild run`, and the sandbox seen through `tcbuild build`: limits from
// the command line, and a WORKDIR that tries to leak the host's filesystem.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { loadFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, run, TCBUILD, tcbuild, tempRoot } from '../helpers/cli.js';

const SCRIPT = ['/usr/bin/script', '/bin/script'].find((path) => existsSync(path)) ?? '';

describe('tcbuild run, and RUN sandboxes through bin/tcbuild', { skip: NEEDS_ROOT }, () => {
  let root: string;
  let context: string;
  const env = () => ({ TCBUILD_ROOT: root });
  const build = async (dockerfile: string, ...flags: string[]) => {
    await writeFile(join(context, 'Dockerfile'), dockerfile);
    return tcbuild(['build', '--progress', 'plain', '--no-cache', ...flags, context], env());
  };

  before(async () => {
    root = await tempRoot();
    await loadFixture('busybox:latest', root);
    context = await mkdtemp(join(tmpdir(), 'tcbuild-run-ctx-'));
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(context, { recursive: true, force: true });
  });

  it("runs a command in a stored image and exits with the command's code", async () => {
    const r = await tcbuild(
      [
        'run',
        '--rm',
        '-e',
        'GREETING=hi',
        '-w',
        '/tmp',
        '--hostname',
        'box',
        'busybox',
        'sh',
        '-c',
        'echo $GREETING from $(hostname) in $(pwd); exit 7',
      ],
      env(),
    );
    assert.equal(r.stdout, 'hi from box in /tmp\n', r.stderr);
    assert.equal(r.code, 7, r.stderr);
  });

  it('-e NAME takes the value from here, and leaves out a variable that is not set here (as docker)', async () => {
    const r = await tcbuild(['run', '-e', 'FROM_HERE', '-e', 'NOT_SET_HERE', 'busybox', 'env'], {
      ...env(),
      FROM_HERE: 'yes',
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^FROM_HERE=yes$/m);
    assert.doesNotMatch(r.stdout, /NOT_SET_HERE/);
  });

  it('-i forwards stdin to the command; its end is EOF', async () => {
    const r = await tcbuild(['run', '-i', 'busybox', 'sh', '-c', 'cat; echo done'], env(), 'hello\n');
    assert.equal(r.stdout, 'hello\ndone\n', r.stderr);
    assert.equal(r.code, 0);
  });

  it('-t gives the command a terminal, and -it types into it (under script(1))', {
    skip: SCRIPT ? false : 'needs script(1)',
  }, async () => {
    const underScript = (command: string, input: string) =>
      run(SCRIPT, ['-qec', `'${TCBUILD}' ${command}`, '/dev/null'], { env: env(), input });
    const tty = await underScript(`run -t busybox sh -c 'tty; test -t 0 && echo terminal'`, '');
    assert.match(tty.stdout, /^\/dev\/pts\/0\r+\nterminal\r+\n/, tty.stderr);
    const typed = await underScript('run -it busybox sh', 'echo typed; exit 5\n');
    assert.match(typed.stdout, /\ntyped\r+\n/);
    assert.equal(typed.code, 5);
  });

  it('takes -u, --entrypoint, -v, --network none, --add-host and --ulimit', async () => {
    await writeFile(join(context, 'shared.txt'), 'from the host\n');
    await chmod(context, 0o755); // readable by uid 1000
    const r = await tcbuild(
      [
        'run',
        '-u',
        '1000:1000',
        '--entrypoint',
        'sh',
        '-v',
        `${context}:/ctx:ro`,
        '--network',
        'none',
        '--add-host',
        'db:10.1.2.3',
        '--ulimit',
        'nofile=512:512',
        'busybox',
        '-c',
        'id -u; cat /ctx/shared.txt; grep -c 10.1.2.3 /etc/hosts; ulimit -n; tail -n +3 /proc/net/dev | wc -l',
      ],
      env(),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '1000\nfrom the host\n1\n512\n1\n');
  });

  it('reports an OOM kill of a RUN step under --memory', async () => {
    const r = await build('FROM busybox\nRUN head -c 200m /dev/zero | tail > /dev/null\n', '--memory', '64m');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /RUN head -c 200m .* was killed: out of memory \(limit 64 MiB\)/);
  });

  it('applies --pids-limit, --add-host and --ulimit to RUN steps', async () => {
    const r = await build(
      'FROM busybox\nRUN ulimit -n > /limits && grep -c 10.9.9.9 /etc/hosts >> /limits\n',
      '--pids-limit',
      '100',
      '--add-host',
      'svc:10.9.9.9',
      '--ulimit',
      'nofile=300:300',
      '-o',
      `type=local,dest=${join(context, 'out')}`,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(context, 'out', 'limits'), 'utf8'), '300\n1\n');
  });

  it('a WORKDIR of /proc/self/fd/N cannot reach the host filesystem', async () => {
    const marker = join(tmpdir(), `tcbuild-leak-${process.pid}`);
    for (const fd of [3, 4, 5, 6, 7, 8]) {
      const r = await build(
        `FROM busybox\nWORKDIR /proc/self/fd/${fd}\nRUN echo leak > ../../../../../../..${marker}; echo leak > ${marker}\n`,
      );
      assert.match(r.stderr, /working directory|DONE/, r.stderr);
      await assert.rejects(readFile(marker), { code: 'ENOENT' }, `WORKDIR /proc/self/fd/${fd} wrote to the host`);
    }
  });
});
