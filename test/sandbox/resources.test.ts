// cgroup limits, OOM and timeouts, and that nothing of a sandbox outlives it
// (nor the tcbuild process that made it).
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { describeExit } from '../../src/sandbox/index.js';
import { cgroupHierarchy } from '../../src/sandbox/cgroup/hierarchy.js';
import { runStateRoot } from '../../src/sandbox/run-state.js';
import { mountinfo, run } from './harness.js';
import { busyboxOverlayPerTest, skipUnlessRoot } from './rootfs.js';

/** Every cgroup directory of a sandbox of process `pid`, on any hierarchy (the unified one of hybrid mode too). */
function sandboxCgroups(pid = process.pid): string[] {
  const h = cgroupHierarchy();
  const parents = !h
    ? []
    : h.version === 2
      ? [h.parent]
      : [...Object.values(h.parents), ...(h.unified ? [h.unified] : [])];
  return parents.flatMap((p) =>
    readdirSync(p, { withFileTypes: true })
      .filter((e) => e.isDirectory() && e.name.startsWith(`${pid}-`))
      .map((e) => join(p, e.name)),
  );
}

/** Cgroups and state of process `pid`'s sandboxes (its own state dir only once it has exited). */
function leftovers(pid = process.pid): string[] {
  let state: string[] = [];
  try {
    state = readdirSync(runStateRoot()).filter((name) => name === String(pid) && pid !== process.pid);
  } catch {
    // none
  }
  return [...sandboxCgroups(pid), ...state];
}

describe('container resources and lifecycle', { skip: skipUnlessRoot }, () => {
  const fx = busyboxOverlayPerTest();
  afterEach(async () => {
    assert.deepEqual(leftovers(), []);
  });

  test('a cgroup v1 or v2 hierarchy is in use here', () => {
    assert.ok(cgroupHierarchy(), 'no usable cgroup hierarchy');
  });

  test('a 200 MiB allocation under a 64 MiB limit is reported as an OOM kill', async () => {
    const memory = 64 * 2 ** 20;
    const { result } = await run(fx.overlay, 'head -c 200m /dev/zero | tail > /dev/null', { memory });
    assert.equal(result.oomKilled, true);
    assert.equal(describeExit(result, { memory }), 'was killed: out of memory (limit 64 MiB)');
  });

  test('within the limit nothing is reported', async () => {
    const { result } = await run(fx.overlay, 'head -c 8m /dev/zero | tail > /dev/null', { memory: 64 * 2 ** 20 });
    assert.deepEqual(result, { exitCode: 0, signal: null });
  });

  test('a fork bomb under pidsLimit 64 ends without hurting the host', async () => {
    // `read -t` is a shell builtin: it needs no fork while the bomb holds every pid.
    const { result, stderr } = await run(
      fx.overlay,
      'bomb() { bomb | bomb & }; bomb; read -t 1 x < /dev/zero; exit 0',
      { pidsLimit: 64 },
    );
    // Whether the shell itself gets to fork again is a race: it exits 0, or 2 on "can't fork".
    assert.equal(result.signal, null);
    assert.match(stderr, /can't fork|Resource temporarily unavailable/);
    assert.equal(execFileSync('echo', ['host fine'], { encoding: 'utf8' }), 'host fine\n');
  });

  test('cpus, memory and pids limits are written to the cgroup', async () => {
    const { stdout } = await run(fx.overlay, 'cat /proc/self/cgroup | grep -c ":/$"', {
      cpus: 0.5,
      memory: 32 * 2 ** 20,
      pidsLimit: 99,
    });
    assert.ok(Number(stdout) >= 1, 'the cgroup namespace is rooted at the sandbox cgroup');
    const h = cgroupHierarchy()!;
    if (h.version === 1) {
      // A limit visible from the host while a container runs.
      const running = run(fx.overlay, 'sleep 0.5', { cpus: 0.5, pidsLimit: 99 });
      await new Promise((r) => setTimeout(r, 200));
      const pids = sandboxCgroups().find((d) => d.includes('/pids/'))!;
      const cpu = sandboxCgroups().find((d) => d.includes('/cpu/'))!;
      assert.equal(readFileSync(join(pids, 'pids.max'), 'utf8').trim(), '99');
      assert.equal(readFileSync(join(cpu, 'cpu.cfs_quota_us'), 'utf8').trim(), '50000');
      await running;
    }
  });

  test('a timeout kills the container and says so', async () => {
    const { result } = await run(fx.overlay, 'sleep 100', { timeoutMs: 300 });
    assert.deepEqual(result, { exitCode: null, signal: 'SIGKILL', timedOut: true });
    assert.equal(describeExit(result, { timeoutMs: 300 }), 'was killed: timed out after 0.3 s');
  });

  test('ulimits and extra /etc/hosts entries are applied', async () => {
    const { stdout } = await run(fx.overlay, 'ulimit -n; ulimit -u; grep 10.0.0.5 /etc/hosts', {
      ulimits: [
        { name: 'nofile', soft: 2048, hard: 4096 },
        { name: 'nproc', soft: 300, hard: 300 },
      ],
      addHosts: ['db:10.0.0.5'],
    });
    assert.equal(stdout, '2048\n300\n10.0.0.5\tdb\n');
  });

  test('nothing stays behind: mounts, cgroups, state dirs, processes', async () => {
    const before = await mountinfo();
    await run(fx.overlay, 'sleep 0.1 & sleep 0.1 &');
    assert.equal(await mountinfo(), before);
    assert.deepEqual(leftovers(), []);
  });

  const runOne = fileURLToPath(new URL('./run-one.js', import.meta.url));
  const startChild = async (script: string) => {
    const child = spawn(process.execPath, [runOne, fx.lower, script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => child.stdout.on('data', (d: Buffer) => d.includes('started') && resolve()));
    return child;
  };
  const exitOf = (child: ReturnType<typeof spawn>) =>
    new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );

  test('SIGTERM of tcbuild kills its sandboxes and cleans up before it exits', async () => {
    const child = await startChild('echo started; sleep 100');
    assert.ok(sandboxCgroups(child.pid).length > 0);
    const exited = exitOf(child);
    child.kill('SIGTERM');
    assert.deepEqual(await exited, { code: null, signal: 'SIGTERM' });
    assert.deepEqual(leftovers(child.pid), []);
  });

  test('after a SIGKILL of tcbuild nothing of its sandbox runs on, and the next one removes what is left', async () => {
    const child = await startChild('echo started; sleep 100 & sleep 100');
    const exited = exitOf(child);
    const cgroups = sandboxCgroups(child.pid);
    assert.ok(cgroups.length > 0);
    child.kill('SIGKILL');
    await exited;
    const populated = () => cgroups.filter((dir) => readFileSync(join(dir, 'cgroup.procs'), 'utf8') !== '');
    for (let i = 0; i < 40 && populated().length; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(populated(), [], 'processes of the sandbox outlived tcbuild');
    const next = spawn(process.execPath, [runOne, fx.lower, 'true'], { stdio: 'inherit' });
    assert.deepEqual(await exitOf(next), { code: 0, signal: null });
    for (let i = 0; i < 40 && leftovers(child.pid).length; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(leftovers(child.pid), []);
  });
});
