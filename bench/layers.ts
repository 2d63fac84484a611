/**
 * Layer export throughput: a 256 MiB upper dir (half random, half zeros) plus 10 000 small
 * files, turned into a gzip and a zstd layer by tcbuild's differ, next to `tar -c | gzip -6`,
 * `tar -c | pigz` and `tar -c | zstd` on the same tree. Figures are MB/s of uncompressed tar;
 * each tcbuild export runs in a child process so its peak RSS is its own.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, printRow, timeMs } from './report.js';

const MiB = 1024 * 1024;
const RUNS = 3;
const differ = fileURLToPath(new URL('../src/snapshot/index.js', import.meta.url));
const contentStore = fileURLToPath(new URL('../src/content/store.js', import.meta.url));

async function makeTree(dir: string): Promise<void> {
  execFileSync('sh', [
    '-c',
    `head -c ${128 * MiB} /dev/urandom > ${dir}/random.bin && head -c ${128 * MiB} /dev/zero > ${dir}/zeros.bin`,
  ]);
  for (let d = 0; d < 100; d++) {
    await mkdir(join(dir, 'small', String(d)), { recursive: true });
    await Promise.all(
      Array.from({ length: 100 }, (_, f) =>
        writeFile(join(dir, 'small', String(d), `file${f}.txt`), `file ${d}/${f}\n`.repeat(1 + ((d * f) % 40))),
      ),
    );
  }
}

/** Exports `dir` as a layer in a fresh child process: its wall time (ms), tar size and peak RSS (bytes). */
function exportInChild(dir: string, store: string, compression: string): { ms: number; tarBytes: number; rss: number } {
  const script = `
    const { writeLayer } = await import(${JSON.stringify(differ)});
    const { ContentStore } = await import(${JSON.stringify(contentStore)});
    const start = process.hrtime.bigint();
    const layer = await writeLayer(${JSON.stringify(dir)}, new ContentStore(${JSON.stringify(store)}), { compression: ${JSON.stringify(compression)} });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    process.stdout.write(JSON.stringify({ ms, size: layer.descriptor.size, rss: process.resourceUsage().maxRSS * 1024 }));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  if (child.status !== 0) throw new Error(`export failed: ${child.stderr}`);
  const result = JSON.parse(child.stdout) as { ms: number; size: number; rss: number };
  return { ms: result.ms, tarBytes: result.size, rss: result.rss };
}

function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** pigz and zstd come from Debian; installed on first use when missing (as root). */
function ensureTools(): void {
  const missing = ['pigz', 'zstd'].filter((t) => !hasCommand(t));
  if (missing.length === 0 || process.getuid?.() !== 0) return;
  process.stdout.write(`installing ${missing.join(', ')} with apt-get\n`);
  spawnSync('sh', [
    '-c',
    `apt-get install -y ${missing.join(' ')} >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y ${missing.join(' ')} >/dev/null)`,
  ]);
}

async function peerMs(dir: string, out: string, compressor: string): Promise<number | undefined> {
  if (!hasCommand(compressor.split(' ')[0]!)) return undefined;
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    times.push(await timeMs(async () => execFileSync('sh', ['-c', `tar -C ${dir} -cf - . | ${compressor} > ${out}`])));
  }
  return median(times);
}

export async function run(_args: string[]): Promise<void> {
  ensureTools();
  const work = await mkdtemp(join(tmpdir(), 'tcbuild-bench-layers-'));
  try {
    const tree = join(work, 'upper');
    await mkdir(tree);
    await makeTree(tree);
    const tarBytes = exportInChild(tree, join(work, 'store-none'), 'none').tarBytes;
    const mbps = (ms: number | undefined): number | undefined =>
      ms === undefined ? undefined : tarBytes / 1e6 / (ms / 1000);
    process.stdout.write(
      `tree: ${(tarBytes / MiB).toFixed(0)} MiB of tar (256 MiB half random, half zeros + 10 000 small files), median of ${RUNS}\n`,
    );

    const ours: Record<string, { mbps: number; rss: number }> = {};
    for (const compression of ['gzip', 'zstd']) {
      const runs = Array.from({ length: RUNS }, (_, i) =>
        exportInChild(tree, join(work, `store-${compression}-${i}`), compression),
      );
      ours[compression] = { mbps: mbps(median(runs.map((r) => r.ms)))!, rss: Math.max(...runs.map((r) => r.rss)) };
    }
    const out = join(work, 'peer.out');
    printRow('gzip export (MB/s)', ours['gzip']!.mbps, 'MB/s', {
      'tar|gzip -6': mbps(await peerMs(tree, out, 'gzip -6')),
      'tar|pigz': mbps(await peerMs(tree, out, 'pigz -6')),
    });
    printRow('zstd export (MB/s)', ours['zstd']!.mbps, 'MB/s', {
      'tar|zstd': mbps(await peerMs(tree, out, 'zstd -3 -T0 -q')),
      'tcbuild gzip': ours['gzip']!.mbps,
    });
    for (const [compression, { rss }] of Object.entries(ours))
      process.stdout.write(`peak RSS, ${compression} export: ${(rss / MiB).toFixed(0)} MiB\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
