/**
 * Builds the `busybox` base image the tests and the demo use — for linux/amd64 and linux/arm64,
 * from Debian's busybox-static packages, with no registry needed — as one multi-platform index in
 * an OCI layout (fixtures/base/oci). Then, as asked:
 *   --load [NAME]   tag it into the local store (default name: busybox:latest)
 *   --push REF      push the index to a registry (e.g. 127.0.0.1:5000/busybox:latest)
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OciLayout } from '../src/content/layout.js';
import { storeImageOrIndex } from '../src/content/store-image.js';
import { copyBlobs } from '../src/api/copy-blobs.js';
import { writeImage, writeIndex } from '../src/export/store.js';
import type { Descriptor, ImageConfig } from '../src/image/types.js';
import { formatReference, parseReference, Registry } from '../src/registry/index.js';
import { openRoot } from '../src/root.js';
import { writeLayer } from '../src/snapshot/index.js';

export const FIXTURE_REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURE_LAYOUT = join(FIXTURE_REPO, 'fixtures', 'base', 'oci');
const DEB_DIR = join(FIXTURE_REPO, 'fixtures', 'base', 'debs');
const EPOCH = 1_700_000_000;
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const ARCHES = [
  { deb: 'amd64', architecture: 'amd64' },
  { deb: 'arm64', architecture: 'arm64', variant: 'v8' },
] as const;

const PASSWD = `root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
`;
const GROUP = `root:x:0:
daemon:x:1:
wheel:x:10:root
nogroup:x:65534:
`;

function debFor(arch: string): string {
  const existing = existsSync(DEB_DIR)
    ? readdirSync(DEB_DIR).find((f) => f.startsWith('busybox-static_') && f.endsWith(`_${arch}.deb`))
    : undefined;
  if (existing) return join(DEB_DIR, existing);
  mkdirSync(DEB_DIR, { recursive: true });
  try {
    execFileSync('apt-get', ['download', `busybox-static:${arch}`], {
      cwd: DEB_DIR,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (err) {
    throw new Error(
      `could not download busybox-static:${arch} with apt-get (${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? err}); run scripts/install-system-deps.sh first (it adds the arm64 architecture and runs apt-get update)`,
    );
  }
  return debFor(arch);
}

/** The applets of the busybox build (the host's amd64 binary lists them; both arches come from one package version). */
function applets(busybox: string): string[] {
  return execFileSync(busybox, ['--list-full'], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

async function rootfs(arch: string, appletPaths: string[] | undefined): Promise<{ dir: string; applets: string[] }> {
  const extracted = await mkdtemp(join(tmpdir(), `tcbuild-busybox-${arch}-`));
  execFileSync('dpkg-deb', ['-x', debFor(arch), extracted]);
  const busybox = join(extracted, 'bin', 'busybox');
  const list = appletPaths ?? applets(busybox);
  const dir = await mkdtemp(join(tmpdir(), `tcbuild-rootfs-${arch}-`));
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'root', 'tmp', 'var', 'home', 'dev', 'proc', 'sys']) {
    await mkdir(join(dir, d), { recursive: true, mode: 0o755 });
  }
  await chmod(join(dir, 'root'), 0o700);
  await chmod(join(dir, 'tmp'), 0o1777);
  execFileSync('cp', ['-p', busybox, join(dir, 'bin', 'busybox')]);
  for (const applet of list) {
    if (applet === 'bin/busybox') continue;
    const depth = applet.split('/').length - 1;
    await symlink(`${'../'.repeat(depth)}bin/busybox`, join(dir, applet)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST') throw err;
    });
  }
  await writeFile(join(dir, 'etc', 'passwd'), PASSWD);
  await writeFile(join(dir, 'etc', 'group'), GROUP);
  await rm(extracted, { recursive: true, force: true });
  return { dir, applets: list };
}

export async function buildFixtureLayout(): Promise<{ layout: OciLayout; index: Descriptor }> {
  await rm(FIXTURE_LAYOUT, { recursive: true, force: true });
  const layout = new OciLayout(FIXTURE_LAYOUT);
  await layout.init();
  const version = execFileSync('dpkg-deb', ['-f', debFor('amd64'), 'Version'], { encoding: 'utf8' }).trim();
  let appletList: string[] | undefined;
  const manifests: Descriptor[] = [];
  for (const arch of ARCHES) {
    const fs = await rootfs(arch.deb, appletList);
    appletList = fs.applets;
    const layer = await writeLayer(fs.dir, layout.blobs, { compression: 'gzip', sourceDateEpoch: EPOCH });
    await rm(fs.dir, { recursive: true, force: true });
    const created = new Date(EPOCH * 1000).toISOString().replace('.000Z', 'Z');
    const config: ImageConfig = {
      created,
      architecture: arch.architecture,
      os: 'linux',
      ...('variant' in arch ? { variant: arch.variant } : {}),
      config: { Env: [PATH_ENV], Cmd: ['sh'] },
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      history: [{ created, created_by: `tcbuild fixtures: busybox-static ${version} (Debian)` }],
    };
    manifests.push(
      (await writeImage(layout, config, [{ descriptor: layer.descriptor, diffId: layer.diffId }])).manifest,
    );
  }
  const descriptor = await writeIndex(layout, manifests);
  await layout.tag('busybox', descriptor, 'latest');
  return { layout, index: descriptor };
}

/** Puts the fixture index into a local store under `name` (default busybox:latest). */
export async function loadFixture(name = 'busybox:latest', root?: string): Promise<string> {
  const { layout, index } = await fixture();
  const store = await openRoot(root);
  await copyBlobs(layout, store.layout, index);
  const ref = parseReference(name);
  await store.layout.tag(formatReference(ref), index, ref.tag);
  return formatReference(ref);
}

/** Pushes the fixture index (both platforms) to a registry reference. */
export async function pushFixture(reference: string, insecure = true): Promise<string> {
  const { layout, index } = await fixture();
  const ref = parseReference(reference);
  const registry = new Registry({ insecure, plainHttpHosts: [ref.registry] });
  try {
    await registry.push(ref, await storeImageOrIndex(layout.blobs, index));
  } finally {
    await registry.close();
  }
  return formatReference(ref);
}

async function fixture(): Promise<{ layout: OciLayout; index: Descriptor }> {
  const layout = new OciLayout(FIXTURE_LAYOUT);
  const index = existsSync(join(FIXTURE_LAYOUT, 'index.json')) ? await layout.resolve('busybox') : undefined;
  return index ? { layout, index } : buildFixtureLayout();
}

async function cli(args: string[]): Promise<void> {
  const built = await buildFixtureLayout();
  process.stdout.write(`busybox base image (linux/amd64, linux/arm64): ${built.index.digest} in ${FIXTURE_LAYOUT}\n`);
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--load') {
      const name = args[i + 1] && !args[i + 1]!.startsWith('--') ? args[++i] : undefined;
      process.stdout.write(`loaded as ${await loadFixture(name)}\n`);
    } else if (args[i] === '--push' && args[i + 1]) {
      process.stdout.write(`pushed to ${await pushFixture(args[++i]!)}\n`);
    } else {
      throw new Error(`unknown argument "${args[i]}"; usage: npm run fixtures -- [--load [NAME]] [--push REF]`);
    }
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  cli(process.argv.slice(2)).catch((err: unknown) => {
    process.stderr.write(`fixtures: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
