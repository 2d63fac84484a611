import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { FIXTURE_LAYOUT, buildFixtureLayout } from '../../scripts/fixtures.js';
import { copy } from '../../src/api/copy.js';
import { load, save } from '../../src/api/archive.js';
import { inspect } from '../../src/api/images.js';
import { ContentStore } from '../../src/content/store.js';
import { MediaType } from '../../src/image/media-types.js';
import { parseIndex } from '../../src/image/parse.js';
import { Registry, parseReference, pullToStore } from '../../src/registry/index.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const run = promisify(execFile);
const skopeo = async (...args: string[]) => (await run('skopeo', args, { maxBuffer: 16 * 1024 * 1024 })).stdout;

describe('interop with skopeo, and oci/docker archives', () => {
  let registry: TestRegistry;
  let scratch: string;
  let client: Registry;
  const reg = (name: string) => `${registry.host}/${name}`;
  const noConfig = () => ({ authConfigPath: join(scratch, 'none.json') });

  before(async () => {
    if (!existsSync(join(FIXTURE_LAYOUT, 'index.json'))) await buildFixtureLayout();
    registry = await startRegistry();
    scratch = await mkdtemp(join(tmpdir(), 'tcbuild-interop-'));
    client = new Registry(noConfig());
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('pulls a multi-platform index pushed by skopeo, every digest verified', async () => {
    await skopeo(
      'copy',
      '--all',
      '--dest-tls-verify=false',
      `oci:${FIXTURE_LAYOUT}:latest`,
      `docker://${reg('interop/busybox:1')}`,
    );
    const store = new ContentStore(join(scratch, 'pulled'));
    const { top } = await pullToStore(client, parseReference(reg('interop/busybox:1')), store, 'all');
    assert.equal(top.mediaType, MediaType.ociIndex);
    const index = parseIndex(await store.readBuffer(top.digest), 'the pulled index');
    assert.equal(index.manifests.length, 2);
    for (const d of index.manifests) assert.ok(await store.has(d.digest));
  });

  it('copies registry → oci-archive → docker-archive → registry, which skopeo reads back whole', async () => {
    const archive = join(scratch, 'busybox-oci.tar');
    await copy(`docker://${reg('interop/busybox:1')}`, `oci-archive:${archive}:v1`, {
      platform: 'linux/arm64',
      registry: noConfig(),
    });
    await skopeo('inspect', `oci-archive:${archive}:v1`);
    const dockerArchive = join(scratch, 'busybox-docker.tar');
    await copy(`oci-archive:${archive}:v1`, `docker-archive:${dockerArchive}:busybox:arm`, { registry: noConfig() });
    const back = await copy(`docker-archive:${dockerArchive}`, reg('interop/back:1'), { registry: noConfig() });
    const layoutDir = join(scratch, 'skopeo-read');
    await skopeo('copy', '--src-tls-verify=false', `docker://${reg('interop/back:1')}`, `oci:${layoutDir}:x`);
    const inspected = JSON.parse(await skopeo('inspect', `oci:${layoutDir}:x`)) as {
      Digest: string;
      Architecture: string;
    };
    assert.equal(inspected.Digest, back.descriptor.digest);
    assert.equal(inspected.Architecture, 'arm64');
  });

  it('copies an index with --all-platforms to an oci: layout and within the registry (mounts)', async () => {
    const dir = join(scratch, 'layout');
    const copied = await copy(reg('interop/busybox:1'), `oci:${dir}:all`, { allPlatforms: true, registry: noConfig() });
    assert.equal(copied.descriptor.mediaType, MediaType.ociIndex);
    await skopeo('inspect', '--raw', `oci:${dir}:all`);
    const events: string[] = [];
    const moved = await copy(reg('interop/busybox:1'), reg('other/busybox:1'), {
      allPlatforms: true,
      registry: { ...noConfig(), progress: { emit: (e) => events.push(e.kind) } },
    });
    assert.equal(moved.descriptor.digest, copied.descriptor.digest);
    assert.deepEqual(
      events.filter((k) => k === 'blob-upload'),
      [],
    );
    assert.ok(events.includes('blob-mount'));
  });

  it('saves and loads docker-archives through the local store, which skopeo reads', async () => {
    const root = join(scratch, 'root');
    const archive = join(scratch, 'saved.tar');
    await copy(`oci:${FIXTURE_LAYOUT}:latest`, `docker-archive:${archive}:busybox:saved`, {
      platform: 'linux/amd64',
      registry: noConfig(),
    });
    const loaded = await load(archive, { root });
    assert.deepEqual(loaded.names, ['busybox:saved']);
    const saved = join(scratch, 'resaved.tar');
    await save(['busybox:saved'], saved, { root });
    const inspected = JSON.parse(await skopeo('inspect', `docker-archive:${saved}`)) as {
      Architecture: string;
      Layers: string[];
    };
    assert.equal(inspected.Architecture, 'amd64');
    assert.equal((await inspect('busybox:saved', { root })).descriptor.digest, loaded.digests[0]);
  });
});
