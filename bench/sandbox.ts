/**
 * `npm run bench -- sandbox`: median start-to-exit latency of sequential `true` runs, each in a
 * fresh sandbox with its own cgroup, next to `crun run` and `runc run` of the same rootfs; then
 * the same with a network namespace of its own ('none') and with the private network.
 * crun runs without cgroups and with the empty v2 tree hidden (it refuses hybrid hierarchies).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runContainer, type NetworkMode } from '../src/sandbox/index.js';
import { makeBusyboxRootfs, makeOverlay } from '../test/sandbox/rootfs.js';
import { median, printRow, timeMs } from './report.js';

const RUNS = 100;

export async function run(args: string[]): Promise<void> {
  const runs = Number(args.find((a) => a.startsWith('--runs='))?.slice('--runs='.length) ?? RUNS);
  const lower = await makeBusyboxRootfs();
  const overlay = await makeOverlay(lower);
  const bundles = await mkdtemp(join(tmpdir(), 'tcbuild-bench-bundle-'));
  try {
    const ours = await tcbuildLatencies(overlay, runs, 'host');
    const crun = await peerLatencies('crun', lower, bundles, runs);
    const runc = await peerLatencies('runc', lower, bundles, runs);
    printRow(`median of ${runs} sequential \`true\` runs, host network`, median(ours), 'ms', {
      crun: crun && median(crun),
      runc: runc && median(runc),
    });
    // What a network namespace of its own costs, and the private network (+ slirp4netns) on top: RUN's default.
    for (const network of ['none', 'private'] as const) {
      printRow(
        `median of ${runs} sequential \`true\` runs, network ${network}`,
        median(await tcbuildLatencies(overlay, runs, network)),
        'ms',
        {
          'tcbuild, host network': median(ours),
        },
      );
    }
  } finally {
    await overlay.remove();
    await rm(lower, { recursive: true, force: true });
    await rm(bundles, { recursive: true, force: true });
  }
}

async function tcbuildLatencies(
  overlay: Awaited<ReturnType<typeof makeOverlay>>,
  runs: number,
  network: NetworkMode,
): Promise<number[]> {
  const once = () =>
    runContainer({
      rootfs: overlay.rootfs,
      mountpoint: overlay.mountpoint,
      args: ['true'],
      env: ['PATH=/bin'],
      cwd: '/',
      user: { uid: 0, gid: 0, additionalGids: [] },
      hostname: 'bench',
      network,
    });
  await once(); // warm-up: loads the addon, detects cgroups, compiles the seccomp filter
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await timeMs(once));
  return times;
}

/** Per-run milliseconds, measured by a shell loop around the peer's `run`; undefined when not installed. */
async function peerLatencies(
  peer: 'crun' | 'runc',
  rootfs: string,
  bundles: string,
  runs: number,
): Promise<number[] | undefined> {
  if (spawnSync('which', [peer]).status !== 0) return undefined;
  const bundle = join(bundles, peer);
  execFileSync('mkdir', ['-p', bundle]);
  execFileSync('runc', ['spec', '--bundle', bundle]);
  const config = JSON.parse(execFileSync('cat', [join(bundle, 'config.json')], { encoding: 'utf8' })) as {
    root: { path: string; readonly: boolean };
    process: { args: string[]; terminal: boolean; env: string[] };
  };
  config.root = { path: rootfs, readonly: true };
  config.process.args = ['true'];
  config.process.terminal = false;
  config.process.env = ['PATH=/bin'];
  await writeFile(join(bundle, 'config.json'), JSON.stringify(config));
  const command = peer === 'crun' ? 'crun --cgroup-manager=disabled' : 'runc';
  const loop = `for i in $(seq ${runs + 1}); do s=$(date +%s%N); ${command} run --bundle ${bundle} bench-$$-$i >/dev/null || exit 1; e=$(date +%s%N); echo $((e-s)); done`;
  const script = peer === 'crun' ? `umount /sys/fs/cgroup/unified 2>/dev/null; ${loop}` : loop;
  const argv =
    peer === 'crun' ? ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script] : ['sh', '-c', script];
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
  if (result.status !== 0) {
    process.stderr.write(`${peer} failed: ${result.stderr.trim()}\n`);
    return undefined;
  }
  return result.stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((ns) => Number(ns) / 1e6);
}
