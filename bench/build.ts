/**
 * `npm run bench -- build`: Dockerfile builds, tcbuild next to `docker build` (BuildKit) and
 * `buildah bud` where they are installed, and tcbuild with `--network host` (the cost of the private
 * networks of RUN steps). Four workloads; for each: a cold build (--no-cache, the
 * base already present), a no-op rebuild, and a rebuild after changing one context file.
 * Flags: --runs N (no-op and change rebuilds, median; default 3), --only NAME (a workload
 * substring), --no-peers.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, printRow } from './report.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TCBUILD = join(REPO, 'bin', 'tcbuild');

interface Workload {
  name: string;
  /** Writes Dockerfile + context into dir; returns a function that changes one context file. */
  setup(dir: string): Promise<(round: number) => Promise<void>>;
}

const dockerfileHead = 'ARG BASE\nFROM ${BASE}\n';

const WORKLOADS: Workload[] = [
  {
    name: '20 small RUN steps',
    async setup(dir) {
      const runs = Array.from({ length: 20 }, (_, i) => `RUN echo ${i} > /step-${i}`).join('\n');
      await writeFile(join(dir, 'Dockerfile'), `${dockerfileHead}${runs}\nCOPY app.txt /app.txt\n`);
      await writeFile(join(dir, 'app.txt'), 'v0\n');
      return (round) => writeFile(join(dir, 'app.txt'), `v${round + 1}\n`);
    },
  },
  {
    name: 'COPY of a 20 000-file / 176 MiB context',
    async setup(dir) {
      await writeFile(join(dir, 'Dockerfile'), `${dockerfileHead}COPY . /ctx/\n`);
      const pool = randomBytes(4 << 20);
      const total = 176 << 20;
      const n = 20_000;
      const per = Math.floor(total / n);
      for (let d = 0; d < 100; d++) {
        const sub = join(dir, 'src', `d${d}`);
        await mkdir(sub, { recursive: true });
        for (let f = 0; f < n / 100; f++) {
          const size = per + (((d * 200 + f) % 7) - 3) * 512;
          const off = ((d * 200 + f) * 4099) % (pool.length - size);
          await writeFile(join(sub, `f${f}.bin`), pool.subarray(off, off + size));
        }
      }
      return (round) => writeFile(join(dir, 'src', 'd0', 'f0.bin'), randomBytes(per + round));
    },
  },
  {
    name: '4 independent 1-second stages',
    async setup(dir) {
      const stages = [0, 1, 2, 3].map((i) => `FROM \${BASE} AS s${i}\nRUN sleep 1 && echo ${i} > /s${i}\n`).join('');
      const copies = [0, 1, 2, 3].map((i) => `COPY --from=s${i} /s${i} /s${i}`).join('\n');
      await writeFile(join(dir, 'Dockerfile'), `ARG BASE\n${stages}FROM \${BASE}\n${copies}\nCOPY app.txt /app.txt\n`);
      await writeFile(join(dir, 'app.txt'), 'v0\n');
      return (round) => writeFile(join(dir, 'app.txt'), `v${round + 1}\n`);
    },
  },
  {
    name: 'one RUN writing 256 MiB + 10 000 files',
    async setup(dir) {
      await writeFile(
        join(dir, 'Dockerfile'),
        `${dockerfileHead}RUN head -c 268435456 /dev/urandom > /big && mkdir /many && cd /many && i=0; while [ $i -lt 10000 ]; do echo $i > f$i; i=$((i+1)); done\nCOPY app.txt /app.txt\n`,
      );
      await writeFile(join(dir, 'app.txt'), 'v0\n');
      return (round) => writeFile(join(dir, 'app.txt'), `v${round + 1}\n`);
    },
  },
];

interface Builder {
  name: string;
  /** Builds dir; returns milliseconds. */
  build(dir: string, tag: string, noCache: boolean): Promise<number>;
}

function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code === 0) resolvePromise(ms);
      else reject(new Error(`${cmd} ${args.join(' ')} failed (${code}):\n${stderr}`));
    });
  });
}

/** tcbuild as users run it (RUN steps on private networks), or with `network: ['--network', 'host']` to show what those cost. */
async function tcbuildBuilder(root: string, network: string[] = []): Promise<Builder> {
  const { loadFixture } = await import('../scripts/fixtures.js');
  await loadFixture('busybox:latest', root);
  const env = { ...process.env, TCBUILD_ROOT: root };
  return {
    name: ['tcbuild', ...network].join(' '),
    build: (dir, tag, noCache) =>
      timed(
        TCBUILD,
        [
          'build',
          '--progress',
          'quiet',
          ...network,
          '-t',
          tag,
          '--build-arg',
          'BASE=busybox:latest',
          ...(noCache ? ['--no-cache'] : []),
          dir,
        ],
        env,
      ),
  };
}

function dockerBuilder(env: NodeJS.ProcessEnv, base: string): Builder {
  return {
    name: 'docker build',
    build: (dir, tag, noCache) =>
      timed(
        '/usr/bin/docker',
        [
          'build',
          '--network',
          'host',
          '-q',
          '-t',
          tag,
          '--build-arg',
          `BASE=${base}`,
          ...(noCache ? ['--no-cache'] : []),
          dir,
        ],
        env,
      ),
  };
}

function buildahBuilder(base: string, root: string): Builder {
  const common = ['--root', join(root, 'storage'), '--runroot', join(root, 'run')];
  return {
    name: 'buildah bud',
    build: (dir, tag, noCache) =>
      timed(
        'buildah',
        [
          ...common,
          'bud',
          '--runtime',
          '/usr/sbin/runc',
          '--network',
          'host',
          '--isolation',
          'chroot',
          '--tls-verify=false',
          '--layers',
          '-q',
          '-t',
          tag,
          '--build-arg',
          `BASE=${base}`,
          ...(noCache ? ['--no-cache'] : []),
          dir,
        ],
        { ...process.env },
      ),
  };
}

function has(bin: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export async function run(args: string[]): Promise<void> {
  const runsIdx = args.indexOf('--runs');
  const runs = runsIdx >= 0 ? Number(args[runsIdx + 1]) : 3;
  const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
  const withPeers = !args.includes('--no-peers');
  const scratch = await mkdtemp(join(tmpdir(), 'tcbuild-bench-build-'));
  const builders: Builder[] = [
    await tcbuildBuilder(join(scratch, 'tcbuild-root')),
    await tcbuildBuilder(join(scratch, 'tcbuild-root'), ['--network', 'host']),
  ];
  let registry: { host: string; stop(): Promise<void> } | undefined;
  const notes: string[] = [];
  try {
    if (withPeers && (existsSync('/usr/bin/docker') || has('buildah'))) {
      const { startRegistry } = await import('../test/helpers/registry.js');
      const { pushFixture } = await import('../scripts/fixtures.js');
      registry = await startRegistry();
      const base = await pushFixture(`${registry.host}/busybox:latest`);
      if (existsSync('/usr/bin/docker') && existsSync('/usr/sbin/dockerd')) {
        try {
          const { startDocker } = await import('../scripts/conformance.js');
          const docker = await startDocker();
          builders.push(dockerBuilder(docker.env, base));
        } catch (err) {
          notes.push(`docker build not measured: ${(err as Error).message.split('\n')[0]}`);
        }
      } else notes.push('docker build: not installed (bash ../shared/peers/start-peers.sh installs it)');
      if (has('buildah')) builders.push(buildahBuilder(base, join(scratch, 'buildah')));
      else notes.push('buildah: not installed');
    }
    // Warm-up: every builder has its base image present (pulled / unpacked) before the cold builds.
    const warm = join(scratch, 'warm');
    await mkdir(warm);
    await writeFile(join(warm, 'Dockerfile'), `${dockerfileHead}RUN true\n`);
    for (const b of [...builders]) {
      try {
        await b.build(warm, 'bench-warm', false);
      } catch (err) {
        notes.push(`${b.name} left out: ${(err as Error).message.split('\n').slice(0, 3).join(' ')}`);
        builders.splice(builders.indexOf(b), 1);
      }
    }
    for (const note of notes) process.stdout.write(`  (${note})\n`);

    for (const w of WORKLOADS.filter((x) => !only || x.name.includes(only))) {
      const figures = new Map<string, { cold: number; noop: number; change: number }>();
      for (const b of builders) {
        const dir = join(scratch, `ctx-${b.name.replace(/\W/g, '')}-${WORKLOADS.indexOf(w)}`);
        await mkdir(dir, { recursive: true });
        const change = await w.setup(dir);
        const tag = `bench-build-${WORKLOADS.indexOf(w)}`;
        try {
          const cold = await b.build(dir, tag, true);
          const noops: number[] = [];
          const changes: number[] = [];
          for (let r = 0; r < runs; r++) noops.push(await b.build(dir, tag, false));
          for (let r = 0; r < runs; r++) {
            await change(r);
            changes.push(await b.build(dir, tag, false));
          }
          figures.set(b.name, { cold, noop: median(noops), change: median(changes) });
        } catch (err) {
          process.stdout.write(
            `  ${b.name} failed on "${w.name}": ${(err as Error).message.split('\n').slice(-3).join(' ')}\n`,
          );
        }
        await rm(dir, { recursive: true, force: true });
      }
      process.stdout.write(`${w.name}\n`);
      const ours = figures.get('tcbuild');
      if (!ours) continue;
      const peers = (k: 'cold' | 'noop' | 'change') =>
        Object.fromEntries(builders.filter((b) => b.name !== 'tcbuild').map((b) => [b.name, figures.get(b.name)?.[k]]));
      printRow('  cold build          ', ours.cold, 'ms', peers('cold'));
      printRow('  no-op rebuild       ', ours.noop, 'ms', peers('noop'));
      printRow('  one file changed    ', ours.change, 'ms', peers('change'));
      if (w.name.startsWith('20 small')) {
        process.stdout.write(
          `  per RUN step (cold / 20): tcbuild ${(ours.cold / 20).toFixed(1)} ms${[...figures]
            .filter(([n]) => n !== 'tcbuild')
            .map(([n, f]) => `  |  ${n} ${(f.cold / 20).toFixed(1)} ms`)
            .join('')}\n`,
        );
      }
    }
  } finally {
    await registry?.stop();
    await rm(scratch, { recursive: true, force: true });
  }
}
