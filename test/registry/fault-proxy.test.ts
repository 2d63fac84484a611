import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Image } from '../../src/image/image.js';
import { ContentStore } from '../../src/content/store.js';
import { DigestMismatchError, NotFoundError } from '../../src/errors.js';
import { Registry, parseReference, pullToStore } from '../../src/registry/index.js';
import { startFaultProxy, type FaultPlan } from '../helpers/fault-proxy.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildTestImage } from './image-fixture.js';

describe('push and pull through a fault-injecting proxy in front of docker-registry', () => {
  let registry: TestRegistry;
  let scratch: string;
  let image: Image;
  let sourceStore: ContentStore;
  let layerDigest: string;
  const stops: (() => Promise<void>)[] = [];

  const client = (opts: ConstructorParameters<typeof Registry>[0] = {}) => {
    const r = new Registry({ authConfigPath: join(scratch, 'none.json'), retry: { baseDelayMs: 5 }, ...opts });
    stops.push(() => r.close());
    return r;
  };
  const proxy = async (plan: FaultPlan) => {
    const p = await startFaultProxy(registry.host, plan);
    stops.push(p.stop);
    return p;
  };
  const direct = () => client();
  const isLayerGet = (method: string | undefined, url: string | undefined) =>
    method === 'GET' && url!.includes(`/blobs/${layerDigest}`);
  const assertStored = async (store: ContentStore) => {
    const manifest = await image.manifest();
    for (const d of [image.descriptor, manifest.config, ...manifest.layers])
      assert.deepEqual(await store.readBuffer(d.digest), await sourceStore.readBuffer(d.digest));
  };

  before(async () => {
    registry = await startRegistry();
    scratch = await mkdtemp(join(tmpdir(), 'tcbuild-fault-proxy-'));
    sourceStore = new ContentStore(join(scratch, 'source'));
    image = await buildTestImage(sourceStore, { 'big.bin': randomBytes(768 * 1024).toString('base64') });
    layerDigest = (await image.manifest()).layers[0]!.digest;
  });
  after(async () => {
    for (const stop of stops.reverse()) await stop();
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('pushes through 503 with Retry-After, 429, a reset upload and a slow registry', async () => {
    let puts = 0;
    let patches = 0;
    const p = await proxy((req) => {
      if (req.method === 'PUT' && req.url!.includes('/uploads/') && ++puts <= 2)
        return puts === 1 ? { kind: 'status', status: 503, retryAfter: '0' } : { kind: 'status', status: 429 };
      if (req.method === 'PATCH' && ++patches === 2) return { kind: 'reset-mid-body' };
      if (req.method === 'HEAD') return { kind: 'slow', delayMs: 20 };
      return { kind: 'pass' };
    });
    await client().push(parseReference(`${p.host}/faults/push:1`), { kind: 'image', image });
    await client({ upload: { chunkSize: 256 * 1024 } }).push(parseReference(`${p.host}/faults/chunked:1`), {
      kind: 'image',
      image,
    });
    assert.ok(patches > 2, `chunked upload used ${patches} PATCHes`);
    for (const name of ['faults/push:1', 'faults/chunked:1']) {
      const store = new ContentStore(await mkdtemp(join(scratch, 'check-')));
      await pullToStore(direct(), parseReference(`${registry.host}/${name}`), store, 'all');
      await assertStored(store);
    }
  });

  it('pulls through resets and truncated bodies, resuming with Range', async () => {
    await direct().push(parseReference(`${registry.host}/faults/pull:1`), { kind: 'image', image });
    let layerGets = 0;
    const p = await proxy((req) => {
      if (req.url!.includes('/manifests/') && req.method === 'GET' && layerGets === 0)
        return { kind: 'slow', delayMs: 10 };
      if (!isLayerGet(req.method, req.url)) return { kind: 'pass' };
      layerGets++;
      return layerGets === 1
        ? { kind: 'reset-mid-body' }
        : layerGets === 2
          ? { kind: 'truncate' }
          : layerGets === 3
            ? { kind: 'status', status: 503 }
            : { kind: 'pass' };
    });
    const store = new ContentStore(await mkdtemp(join(scratch, 'pulled-')));
    await pullToStore(client(), parseReference(`${p.host}/faults/pull:1`), store, 'all');
    await assertStored(store);
    assert.ok(layerGets >= 4, `${layerGets} GETs of the layer`);
    assert.ok(
      p.seen.some((r) => isLayerGet(r.method, r.url) && r.range?.startsWith('bytes=')),
      'a cut download resumes with Range',
    );
  });

  it('refuses a blob whose bytes do not match its digest, leaving nothing in the store', async () => {
    await direct().push(parseReference(`${registry.host}/faults/corrupt:1`), { kind: 'image', image });
    const p = await proxy((req) => (isLayerGet(req.method, req.url) ? { kind: 'corrupt' } : { kind: 'pass' }));
    const store = new ContentStore(await mkdtemp(join(scratch, 'corrupt-')));
    await assert.rejects(
      pullToStore(client(), parseReference(`${p.host}/faults/corrupt:1`), store, 'all'),
      DigestMismatchError,
    );
    assert.deepEqual(
      (await readdir(join(store.root, 'blobs', 'sha256')).catch(() => [])).filter((f) => f === layerDigest.slice(7)),
      [],
    );
    assert.equal(await store.has(image.descriptor.digest), false);
    assert.deepEqual(await readdir(join(store.root, 'ingest')).catch(() => []), []);
  });

  it('refuses to push a source blob that does not match its digest: the registry gets nothing', async () => {
    const source = new ContentStore(join(scratch, 'bad-source'));
    const bad = await buildTestImage(source, { 'bad.txt': 'will be corrupted\n' });
    const layer = (await bad.manifest()).layers[0]!;
    const bytes = await source.readBuffer(layer.digest);
    bytes[bytes.length - 1]! ^= 0xff;
    await writeFile(source.path(layer.digest), bytes);
    const ref = parseReference(`${registry.host}/faults/bad:1`);
    await assert.rejects(direct().push(ref, { kind: 'image', image: bad }), DigestMismatchError);
    await assert.rejects(direct().resolve(ref), NotFoundError);
    const store = new ContentStore(await mkdtemp(join(scratch, 'bad-pull-')));
    await assert.rejects(
      pullToStore(direct(), parseReference(`${registry.host}/faults/bad@${bad.descriptor.digest}`), store, 'all'),
      NotFoundError,
    );
  });
});
