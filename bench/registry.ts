/**
 * `npm run bench -- registry`: push the "256 MiB (half random, half zeros) + 10 000 small files"
 * image to a fresh loopback docker-registry, push it again unchanged, pull it into an empty
 * store — next to `skopeo copy` of the same image (oci: layout → docker://).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { OciLayout } from '../src/content/layout.js';
import { writeImage } from '../src/export/store.js';
import type { ImageConfig } from '../src/image/types.js';
import { storeSource } from '../src/content/store-image.js';
import type { Image } from '../src/image/image.js';
import { SourceImage } from '../src/image/source-image.js';
import { ContentStore } from '../src/content/store.js';
import { Registry, parseReference, pullToStore } from '../src/registry/index.js';
import { writeLayer } from '../src/snapshot/index.js';
import { startRegistry } from '../test/helpers/registry.js';
import { printRow, timeMs } from './report.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;

async function makeTree(dir: string): Promise<void> {
  await mkdir(join(dir, 'big'), { recursive: true });
  await writeFile(join(dir, 'big', 'random.bin'), randomBytes(128 * MiB));
  await writeFile(join(dir, 'big', 'zeros.bin'), Buffer.alloc(128 * MiB));
  for (let d = 0; d < 100; d++) {
    await mkdir(join(dir, 'small', String(d)), { recursive: true });
    await Promise.all(
      Array.from({ length: 100 }, (_, f) => writeFile(join(dir, 'small', String(d), `f${f}.txt`), `file ${d}/${f}\n`)),
    );
  }
}

/** The image in a temp OCI layout, tagged "bench" there: one gzip layer of the tree. */
async function buildImage(scratch: string): Promise<{ layoutDir: string; image: Image }> {
  const tree = join(scratch, 'tree');
  await makeTree(tree);
  const layoutDir = join(scratch, 'layout');
  const layout = new OciLayout(layoutDir);
  await layout.init();
  const layer = await writeLayer(tree, layout.blobs, { compression: 'gzip', level: 1, sourceDateEpoch: 0 });
  const config: ImageConfig = {
    architecture: 'amd64',
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: [layer.diffId] },
  };
  const descriptor = (await writeImage(layout, config, [{ descriptor: layer.descriptor, diffId: layer.diffId }]))
    .manifest;
  await layout.tag('bench', descriptor, 'bench');
  await rm(tree, { recursive: true, force: true });
  return { layoutDir, image: new SourceImage(storeSource(layout.blobs), descriptor) };
}

async function skopeoAvailable(): Promise<boolean> {
  return exec('skopeo', ['--version']).then(
    () => true,
    () => false,
  );
}

async function measure(scratch: string): Promise<void> {
  process.stdout.write('building the image (256 MiB + 10 000 files)…\n');
  const { layoutDir, image } = await buildImage(scratch);
  const skopeo = await skopeoAvailable();
  const registry = await startRegistry();
  const peerRegistry = await startRegistry(); // skopeo gets its own fresh registry
  const client = new Registry({ authConfigPath: join(scratch, 'none.json') });
  const rePushed: string[] = [];
  const counting = new Registry({
    authConfigPath: join(scratch, 'none.json'),
    progress: { emit: (e) => rePushed.push(e.kind) },
  });
  try {
    const fresh = await timeMs(() =>
      client.push(parseReference(`${registry.host}/bench/tcbuild:1`), { kind: 'image', image }),
    );
    const skopeoFresh = skopeo
      ? await timeMs(() =>
          exec('skopeo', [
            'copy',
            '--dest-tls-verify=false',
            `oci:${layoutDir}:bench`,
            `docker://${peerRegistry.host}/bench/skopeo:1`,
          ]),
        )
      : undefined;
    printRow('fresh push', fresh, 'ms', { skopeo: skopeoFresh });
    await counting.push(parseReference(`${registry.host}/bench/tcbuild:warm`), { kind: 'image', image }); // opens the connection
    const again = await timeMs(() =>
      counting.push(parseReference(`${registry.host}/bench/tcbuild:2`), { kind: 'image', image }),
    );
    const skopeoAgain = skopeo
      ? await timeMs(() =>
          exec('skopeo', [
            'copy',
            '--dest-tls-verify=false',
            `oci:${layoutDir}:bench`,
            `docker://${peerRegistry.host}/bench/skopeo:2`,
          ]),
        )
      : undefined;
    printRow('unchanged re-push', again, 'ms', { skopeo: skopeoAgain });
    process.stdout.write(`  re-push did: ${rePushed.slice(rePushed.length / 2).join(', ')}\n`);
    const store = new ContentStore(join(scratch, 'pulled'));
    const pulled = await timeMs(() =>
      pullToStore(client, parseReference(`${registry.host}/bench/tcbuild:1`), store, 'all'),
    );
    const skopeoPull = skopeo
      ? await timeMs(() =>
          exec('skopeo', [
            'copy',
            '--src-tls-verify=false',
            `docker://${registry.host}/bench/tcbuild:1`,
            `oci:${join(scratch, 'skopeo-pulled')}:x`,
          ]),
        )
      : undefined;
    printRow('pull into an empty store', pulled, 'ms', { skopeo: skopeoPull });
    process.stdout.write(`layer: ${((await image.manifest()).layers[0]!.size / MiB).toFixed(1)} MiB gzip\n`);
  } finally {
    await client.close();
    await counting.close();
    await registry.stop();
    await peerRegistry.stop();
  }
}

export async function run(_args: string[]): Promise<void> {
  const scratch = await mkdtemp(join(tmpdir(), 'tcbuild-bench-registry-'));
  try {
    await measure(scratch);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
