// What a RUN step's process sees of its container: exit status, output,
// PID 1, hostname, user, network, signals, fds.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { ContainerSetupError, resolveUser } from '../../src/sandbox/index.js';
import { run } from './harness.js';
import { busyboxOverlayPerTest, GROUP, PASSWD, skipUnlessRoot } from './rootfs.js';

describe('container process', { skip: skipUnlessRoot }, () => {
  const fx = busyboxOverlayPerTest();

  test('the exit code propagates', async () => {
    const { result } = await run(fx.overlay, 'exit 3');
    assert.deepEqual(result, { exitCode: 3, signal: null });
  });

  test('a workload killed by a signal reports the signal', async () => {
    const { result } = await run(fx.overlay, 'kill -TERM $$');
    assert.deepEqual(result, { exitCode: null, signal: 'SIGTERM' });
  });

  test('stdout and stderr are streamed separately; stdin is /dev/null', async () => {
    const { result, stdout, stderr } = await run(fx.overlay, 'echo out; echo err >&2; cat; readlink /proc/self/fd/0');
    assert.deepEqual(result, { exitCode: 0, signal: null });
    assert.equal(stdout, 'out\n/dev/null\n');
    assert.equal(stderr, 'err\n');
  });

  test('PID 1 is tcbuild-init and only the container processes are visible', async () => {
    const { stdout } = await run(fx.overlay, 'ps -o pid,comm; echo /proc/[0-9]*');
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => line.trim().split(/\s+/));
    assert.deepEqual(lines, [
      ['PID', 'COMMAND'],
      ['1', 'tcbuild-init'],
      ['2', 'sh'],
      ['3', 'ps'],
      ['/proc/1', '/proc/2'],
    ]);
  });

  test('the command line and environment of Node are not visible through /proc/1', async () => {
    const { stdout } = await run(
      fx.overlay,
      'tr -d "\\0" < /proc/1/cmdline; echo; tr -d "\\0" < /proc/1/environ | wc -c',
    );
    assert.equal(stdout, 'tcbuild-init\n0\n');
  });

  test('hostname is the one requested, also in /etc/hostname and /etc/hosts', async () => {
    const { stdout } = await run(
      fx.overlay,
      'hostname; cat /etc/hostname; grep -c "127.0.0.1.*localhost.*box-1" /etc/hosts',
      {
        hostname: 'box-1',
      },
    );
    assert.equal(stdout, 'box-1\nbox-1\n1\n');
  });

  test('the user, group and supplementary groups are the ones requested', async () => {
    const user = resolveUser('app', PASSWD, GROUP);
    const { stdout } = await run(fx.overlay, 'id -u; id -g; id -G', { user });
    assert.equal(stdout, '1000\n1000\n1000 29 50\n');
  });

  test("a missing executable rejects with a message naming it and the container's PATH", async () => {
    await assert.rejects(run(fx.overlay, '', { args: ['no-such-tool', '--version'] }), (err: Error) => {
      assert.ok(err instanceof ContainerSetupError);
      assert.equal(err.message, 'exec "no-such-tool": no such file or directory in the container\'s PATH');
      assert.equal(err.code, 'ENOENT');
      return true;
    });
    await assert.rejects(run(fx.overlay, '', { args: ['/bin/no-such-tool'] }), {
      message: 'exec "/bin/no-such-tool": no such file or directory',
    });
  });

  test('args[0] is looked up in PATH from the container env, defaulting without one', async () => {
    assert.equal((await run(fx.overlay, 'echo found', { env: ['PATH=/nowhere:/bin'] })).stdout, 'found\n');
    assert.equal((await run(fx.overlay, 'echo found', { env: [] })).stdout, 'found\n');
  });

  test("network 'none' has only lo, and it is up", async () => {
    const { stdout } = await run(
      fx.overlay,
      'tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "; cat /sys/class/net/lo/operstate',
    );
    const [interfaces, state] = [stdout.trim().split('\n').slice(0, -1), stdout.trim().split('\n').at(-1)];
    assert.deepEqual(interfaces, ['lo']);
    assert.equal(state, 'unknown'); // loopback reports "unknown" when up, "down" when not
  });

  test("network 'host' sees the host's interfaces", async () => {
    const { stdout } = await run(fx.overlay, 'tail -n +3 /proc/net/dev | wc -l', { network: 'host' });
    assert.ok(Number(stdout.trim()) >= 1);
  });

  test('abort kills a long-running container quickly', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const { result } = await run(fx.overlay, 'sleep 100', { signal: controller.signal });
    // Killed, so not after the 100 s of its sleep: no wall-clock bound that a busy machine could break.
    assert.deepEqual(result, { exitCode: null, signal: 'SIGKILL' });
  });

  test('an already aborted signal kills the container right away', async () => {
    const { result } = await run(fx.overlay, 'sleep 100', { signal: AbortSignal.abort() });
    assert.deepEqual(result, { exitCode: null, signal: 'SIGKILL' });
  });

  test('init forwards SIGTERM to the workload', async () => {
    const { result, stdout } = await run(
      fx.overlay,
      'trap "echo got TERM; exit 7" TERM; kill -TERM 1; sleep 10 & wait',
    );
    assert.equal(stdout, 'got TERM\n');
    assert.deepEqual(result, { exitCode: 7, signal: null });
  });

  test('orphaned processes are reaped by init', async () => {
    const { stdout } = await run(fx.overlay, 'sh -c "sleep 0.1 &"; sleep 0.6; grep -h "^State:" /proc/[0-9]*/status');
    assert.ok(stdout.length > 0);
    assert.doesNotMatch(stdout, /zombie/);
  });

  test('no file descriptors leak in beyond stdin, stdout and stderr', async () => {
    const { stdout } = await run(fx.overlay, 'exec ls /proc/self/fd', {});
    // 3 is the directory ls itself opened to list /proc/self/fd.
    assert.deepEqual(stdout.trim().split('\n'), ['0', '1', '2', '3']);
  });

  test('resource limits and umask are set', async () => {
    const { stdout } = await run(fx.overlay, 'ulimit -n; umask');
    assert.equal(stdout, '1024\n0022\n');
  });
});
