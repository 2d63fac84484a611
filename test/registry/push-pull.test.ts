import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ContentStore } from '../../src/content/store.js';
import { NotFoundError } from '../../src/errors.js';
import { MediaType } from '../../src/image/media-types.js';
import type { Index, Manifest } from '../../src/image/types.js';
import { Registry, pullToStore, parseReference } from '../../src/registry/index.js';
import type { TransferEvent } from '../../src/progress/progress.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildTestImage, buildTestIndex } from './image-fixture.js';

const run = promisify(execFile);

async function skopeo(...args: string[]): Promise<string> {
  return (await run('skopeo', args, { maxBuffer: 16 * 1024 * 1024 })).stdout;
}

describe('registry push and pull against docker-registry', () => {
  let registry: TestRegistry;
  let scratch: string;
  let events: TransferEvent[];
  let client: Registry;

  const newStore = async () => new ContentStore(await mkdtemp(join(scratch, 'store-')));
  const ref = (name: string) => parseReference(`${registry.host}/${name}`);

  before(async () => {
    registry = await startRegistry();
    scratch = await mkdtemp(join(tmpdir(), 'tcbuild-registry-test-'));
    client = new Registry({
      progress: { emit: (e) => events.push(e as TransferEvent) },
      authConfigPath: join(scratch, 'no-docker-config.json'),
    });
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('pushes an image that skopeo reads back identically', async () => {
    const store = await newStore();
    const image = await buildTestImage(store, { 'hello.txt': 'hello\n' });
    const manifest = await image.manifest();
    events = [];
    const pushed = await client.push(ref('tests/hello:1'), { kind: 'image', image });
    assert.equal(pushed.digest, image.descriptor.digest);
    assert.deepEqual(
      events
        .filter((e) => e.kind === 'blob-upload')
        .map((e) => e.digest)
        .sort(),
      [manifest.config.digest, manifest.layers[0]!.digest].sort(),
    );

    const inspected = JSON.parse(
      await skopeo('inspect', '--tls-verify=false', `docker://${registry.host}/tests/hello:1`),
    ) as { Digest: string; Layers: string[] };
    assert.equal(inspected.Digest, image.descriptor.digest);
    assert.deepEqual(inspected.Layers, [manifest.layers[0]!.digest]);

    const layoutDir = join(scratch, 'skopeo-oci');
    await skopeo('copy', '--src-tls-verify=false', `docker://${registry.host}/tests/hello:1`, `oci:${layoutDir}:hello`);
    const layoutIndex = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as Index;
    assert.equal(layoutIndex.manifests[0]!.digest, image.descriptor.digest);
    const copied = JSON.parse(
      await readFile(join(layoutDir, 'blobs', 'sha256', image.descriptor.digest.slice(7)), 'utf8'),
    ) as Manifest;
    assert.deepEqual(copied.layers, manifest.layers);
  });

  it('skips every blob on a second push', async () => {
    const store = await newStore();
    const image = await buildTestImage(store, { 'twice.txt': 'twice\n' });
    await client.push(ref('tests/twice:1'), { kind: 'image', image });
    events = [];
    await client.push(ref('tests/twice:2'), { kind: 'image', image });
    assert.deepEqual(events.map((e) => e.kind).sort(), ['blob-skip', 'blob-skip', 'manifest']);
  });

  it('pulls into a fresh store with identical digests, then skips what is there', async () => {
    const source = await newStore();
    const image = await buildTestImage(source, { 'pull.txt': 'pull me\n' });
    await client.push(ref('tests/pull:1'), { kind: 'image', image });
    const manifest = await image.manifest();

    const store = await newStore();
    const resolved = await client.resolve(ref('tests/pull:1'));
    assert.deepEqual(resolved, image.descriptor);
    events = [];
    const { top, image: pulled } = await pullToStore(client, ref('tests/pull:1'), store, 'all');
    assert.equal(top.digest, image.descriptor.digest);
    assert.equal(pulled?.digest, image.descriptor.digest);
    for (const d of [image.descriptor, manifest.config, ...manifest.layers]) {
      assert.deepEqual(await store.readBuffer(d.digest), await source.readBuffer(d.digest));
    }
    assert.equal(events.filter((e) => e.kind === 'blob-download').length, 2);

    events = [];
    await pullToStore(client, ref('tests/pull:1'), store, 'all');
    assert.deepEqual(
      events.map((e) => e.kind),
      ['blob-skip', 'blob-skip', 'blob-skip'],
    );
  });

  it('pushes a two-platform index and pulls one platform from it', async () => {
    const source = await newStore();
    const amd64 = { os: 'linux', architecture: 'amd64' };
    const arm64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };
    const images = [
      { image: await buildTestImage(source, { arch: 'amd64\n' }, amd64), platform: amd64 },
      { image: await buildTestImage(source, { arch: 'arm64\n' }, arm64), platform: arm64 },
    ];
    const index = await buildTestIndex(source, images);
    const pushed = await client.push(ref('tests/multi:1'), { kind: 'index', index });
    assert.equal(pushed.digest, index.descriptor.digest);
    assert.equal(pushed.mediaType, MediaType.ociIndex);

    const raw = JSON.parse(
      await skopeo('inspect', '--raw', '--tls-verify=false', `docker://${registry.host}/tests/multi:1`),
    ) as Index;
    assert.deepEqual(
      raw.manifests.map((d) => d.digest),
      images.map((i) => i.image.descriptor.digest),
    );

    const store = await newStore();
    const result = await pullToStore(client, ref('tests/multi:1'), store, { os: 'linux', architecture: 'aarch64' });
    assert.equal(result.top.digest, index.descriptor.digest);
    assert.equal(result.image?.digest, images[1]!.image.descriptor.digest);
    assert.ok(await store.has(index.descriptor.digest));
    assert.ok(await store.has((await images[1]!.image.manifest()).layers[0]!.digest));
    assert.equal(await store.has((await images[0]!.image.manifest()).layers[0]!.digest), false);

    await assert.rejects(
      pullToStore(client, ref('tests/multi:1'), store, { os: 'linux', architecture: 's390x' }),
      (err: Error) => {
        assert.ok(err instanceof NotFoundError);
        assert.match(err.message, /has no image for linux\/s390x; it has linux\/amd64, linux\/arm64/);
        return true;
      },
    );
  });

  it('mounts blobs when copying between repositories of one registry', async () => {
    const store = await newStore();
    const image = await buildTestImage(store, { 'mount.txt': 'mount\n' });
    await client.push(ref('tests/mount-src:1'), { kind: 'image', image });
    const remote = await client.get(ref('tests/mount-src:1'));
    events = [];
    await client.push(ref('tests/mount-dst:1'), remote);
    assert.deepEqual(events.map((e) => e.kind).sort(), ['blob-mount', 'blob-mount', 'manifest']);
    const inspected = JSON.parse(
      await skopeo('inspect', '--tls-verify=false', `docker://${registry.host}/tests/mount-dst:1`),
    ) as { Digest: string };
    assert.equal(inspected.Digest, image.descriptor.digest);
  });

  it('pushes by digest when the reference has no tag', async () => {
    const store = await newStore();
    const image = await buildTestImage(store, { 'bydigest.txt': 'x\n' });
    const target = parseReference(`${registry.host}/tests/bydigest@${image.descriptor.digest}`);
    await client.push(target, { kind: 'image', image });
    assert.deepEqual(await client.resolve(target), image.descriptor);
  });

  it('says clearly that an unknown tag does not exist', async () => {
    await assert.rejects(client.get(ref('tests/hello:nope')), (err: Error) => {
      assert.ok(err instanceof NotFoundError);
      assert.equal(err.message, `manifest unknown: ${registry.host}/tests/hello:nope does not exist`);
      return true;
    });
    const store = await newStore();
    await assert.rejects(pullToStore(client, ref('tests/nothing-here:1'), store, 'all'), NotFoundError);
    assert.deepEqual(await readdir(store.root).catch(() => []), []);
  });
});
