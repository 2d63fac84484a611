import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Image } from '../../src/image/image.js';
import { ContentStore } from '../../src/content/store.js';
import { DigestMismatchError, TcbuildError } from '../../src/errors.js';
import { sha256 } from '../../src/image/digest.js';
import { MediaType } from '../../src/image/media-types.js';
import { Registry, UnauthorizedError, parseReference, pullToStore } from '../../src/registry/index.js';
import { selfSignedCertificate, startFakeServer } from '../helpers/registry.js';
import { startFakeRegistry, type FakeContent, type FakeRegistry } from './fake-registry.js';
import { buildTestImage } from './image-fixture.js';

describe('registry client against misbehaving servers', () => {
  let scratch: string;
  let image: Image;
  let content: FakeContent;
  const servers: { stop(): Promise<void> }[] = [];
  const clients: Registry[] = [];

  const client = (opts: ConstructorParameters<typeof Registry>[0] = {}) => {
    const r = new Registry({ authConfigPath: join(scratch, 'none.json'), retry: { baseDelayMs: 1 }, ...opts });
    clients.push(r);
    return r;
  };
  const fake = async (
    c: FakeContent,
    intercept?: Parameters<typeof startFakeRegistry>[1],
    tls?: Parameters<typeof startFakeRegistry>[2],
  ): Promise<FakeRegistry> => {
    const server = await startFakeRegistry(c, intercept, tls);
    servers.push(server);
    return server;
  };
  const emptyStore = async () => new ContentStore(await mkdtemp(join(scratch, 'store-')));
  const assertEmpty = async (store: ContentStore) => {
    for await (const d of store.list()) assert.fail(`the store holds ${d}`);
    assert.deepEqual(await readdir(join(store.root, 'ingest')).catch(() => []), []);
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tcbuild-registry-faults-'));
    const source = new ContentStore(join(scratch, 'source'));
    image = await buildTestImage(source, { 'a.txt': 'a\n' });
    const manifest = await image.manifest();
    const raw = await image.rawManifest();
    content = {
      manifests: new Map([
        ['1', { mediaType: MediaType.ociManifest, raw }],
        [image.descriptor.digest, { mediaType: MediaType.ociManifest, raw }],
      ]),
      blobs: new Map(
        await Promise.all(
          [manifest.config, ...manifest.layers].map(
            async (d) => [d.digest, await source.readBuffer(d.digest)] as const,
          ),
        ),
      ),
    };
  });
  after(async () => {
    for (const c of clients) await c.close();
    for (const s of servers) await s.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('pulls from the fake registry when nothing lies', async () => {
    const server = await fake(content);
    const store = await emptyStore();
    const { top } = await pullToStore(client(), parseReference(`${server.host}/app:1`), store, 'all');
    assert.equal(top.digest, image.descriptor.digest);
  });

  it('speaks HTTPS, and explains an untrusted certificate instead of falling back to HTTP', async () => {
    const server = await fake(content, undefined, await selfSignedCertificate());
    const ref = parseReference(`${server.host}/app:1`);
    await assert.rejects(client().resolve(ref), (err: Error) => {
      assert.ok(err instanceof TcbuildError, String(err));
      assert.match(err.message, new RegExp(`cannot reach the registry ${server.host} at https://`));
      assert.match(err.hint ?? '', /--tls-verify=false/);
      return true;
    });
    assert.deepEqual(await client({ insecure: true }).resolve(ref), image.descriptor);
  });

  it('rejects a corrupted layer and leaves nothing in the store', async () => {
    const layer = (await image.manifest()).layers[0]!;
    const corrupted = Buffer.from(content.blobs.get(layer.digest)!);
    corrupted[corrupted.length - 1]! ^= 0xff;
    const server = await fake({ ...content, blobs: new Map([...content.blobs, [layer.digest, corrupted]]) });
    const store = await emptyStore();
    await assert.rejects(pullToStore(client(), parseReference(`${server.host}/app:1`), store, 'all'), (err: Error) => {
      assert.ok(err instanceof DigestMismatchError, String(err));
      assert.match(err.message, new RegExp(`${server.host}/app.*${layer.digest}`));
      return true;
    });
    await assertEmpty(store);
  });

  it('rejects a manifest that does not match the digest it was asked by', async () => {
    const other = { mediaType: MediaType.ociManifest, raw: Buffer.from('{"schemaVersion":2,"config":{},"layers":[]}') };
    const server = await fake({ ...content, manifests: new Map([[image.descriptor.digest, other]]) });
    const store = await emptyStore();
    await assert.rejects(
      pullToStore(client(), parseReference(`${server.host}/app@${image.descriptor.digest}`), store, 'all'),
      DigestMismatchError,
    );
    await assertEmpty(store);
  });

  it('rejects a manifest whose Docker-Content-Digest disagrees', async () => {
    const server = await fake(content, (req, res) => {
      if (!req.url!.includes('/manifests/')) return false;
      res.writeHead(200, {
        'content-type': MediaType.ociManifest,
        'docker-content-digest': `sha256:${'0'.repeat(64)}`,
      });
      res.end(content.manifests.get('1')!.raw);
      return true;
    });
    await assert.rejects(client().get(parseReference(`${server.host}/app:1`)), /Docker-Content-Digest/);
  });

  it('refuses schema 1 manifests with a clear message', async () => {
    const schema1 = {
      mediaType: MediaType.dockerManifestV1Signed,
      raw: Buffer.from('{"schemaVersion":1,"name":"app","tag":"old","fsLayers":[]}'),
    };
    const server = await fake({ ...content, manifests: new Map([['old', schema1]]) });
    await assert.rejects(client().get(parseReference(`${server.host}/app:old`)), (err: Error) => {
      assert.ok(err instanceof TcbuildError);
      assert.match(err.message, /schema 1 manifest/);
      return true;
    });
  });

  it('retries a 503 and then succeeds', async () => {
    let failures = 1;
    const server = await fake(content, (req, res) => {
      if (!req.url!.includes('/manifests/') || failures-- <= 0) return false;
      res.writeHead(503).end('busy');
      return true;
    });
    const { kind } = await client().get(parseReference(`${server.host}/app:1`));
    assert.equal(kind, 'image');
    assert.equal(server.requests.filter((r) => r.url.includes('/manifests/')).length, 2);
  });

  it('waits as long as Retry-After asks', async () => {
    let failures = 1;
    const server = await fake(content, (req, res) => {
      if (!req.url!.includes('/manifests/') || failures-- <= 0) return false;
      res.writeHead(429, { 'retry-after': '1' }).end();
      return true;
    });
    const started = Date.now();
    await client().resolve(parseReference(`${server.host}/app:1`));
    assert.ok(Date.now() - started >= 900, `retried after ${Date.now() - started} ms`);
  });

  it('gives up after the retry budget with the registry and status in the message', async () => {
    const server = await fake(content, (req, res) => {
      if (!req.url!.includes('/manifests/')) return false;
      res.writeHead(502).end();
      return true;
    });
    await assert.rejects(
      client({ retry: { maxAttempts: 3, baseDelayMs: 1 } }).get(parseReference(`${server.host}/app:1`)),
      (err: Error) => {
        assert.match(err.message, new RegExp(`${server.host}.*HTTP 502`));
        return true;
      },
    );
    assert.equal(server.requests.filter((r) => r.url.includes('/manifests/')).length, 3);
  });

  it('gets a bearer token through the challenge, caches it, and never sends it to a redirect host', async () => {
    const blobRequests: (string | undefined)[] = [];
    const tokenRequests: URL[] = [];
    const blobHost = await startFakeServer((req, res) => {
      blobRequests.push(req.headers.authorization);
      const digest = /sha256:[a-f0-9]{64}/.exec(req.url!)![0];
      res.end(content.blobs.get(digest));
    });
    servers.push(blobHost);
    const server = await fake(content, (req, res, host) => {
      const url = new URL(req.url!, `http://${host}`);
      if (url.pathname === '/token') {
        tokenRequests.push(url);
        const ok = req.headers.authorization === `Basic ${Buffer.from('me:secret').toString('base64')}`;
        res
          .writeHead(ok ? 200 : 401, { 'content-type': 'application/json' })
          .end(JSON.stringify(ok ? { token: 'good-token', expires_in: 300 } : {}));
        return true;
      }
      if (req.headers.authorization !== 'Bearer good-token') {
        res
          .writeHead(401, {
            'www-authenticate': `Bearer realm="http://${host}/token",service="fake-service",scope="repository:team/app:pull"`,
          })
          .end();
        return true;
      }
      if (url.pathname.includes('/blobs/')) {
        res.writeHead(307, { location: `http://${blobHost.host}/storage${url.pathname}` }).end();
        return true;
      }
      return false;
    });
    const config = join(scratch, 'docker-config.json');
    await writeFile(
      config,
      JSON.stringify({ auths: { [`http://${server.host}`]: { auth: Buffer.from('me:secret').toString('base64') } } }),
    );

    const store = await emptyStore();
    await pullToStore(client({ authConfigPath: config }), parseReference(`${server.host}/team/app:1`), store, 'all');
    assert.ok(await store.has(image.descriptor.digest));
    assert.equal(tokenRequests.length, 1);
    assert.equal(tokenRequests[0]!.searchParams.get('service'), 'fake-service');
    assert.deepEqual(tokenRequests[0]!.searchParams.getAll('scope'), ['repository:team/app:pull']);
    assert.ok(blobRequests.length >= 1);
    assert.deepEqual(
      blobRequests.filter((a) => a !== undefined),
      [],
    );

    await assert.rejects(client().get(parseReference(`${server.host}/team/app:1`)), (err: Error) => {
      assert.ok(err instanceof UnauthorizedError, String(err));
      assert.match(err.hint ?? '', /tcbuild login/);
      return true;
    });
  });

  it('retries a failed upload with a new session', async () => {
    let sessions = 0;
    let failPuts = 1;
    const uploaded = new Map<string, Buffer>();
    const server = await fake({ manifests: new Map(), blobs: uploaded }, (req, res, _host, body) => {
      const url = new URL(req.url!, 'http://fake');
      if (req.method === 'POST' && url.pathname.endsWith('/blobs/uploads/')) {
        res.writeHead(202, { location: `/v2/app/blobs/uploads/session-${++sessions}` }).end();
        return true;
      }
      if (req.method !== 'PUT') return false;
      if (url.pathname.includes('/uploads/') && failPuts-- > 0) {
        res.writeHead(500).end();
        return true;
      }
      if (url.pathname.includes('/uploads/')) uploaded.set(url.searchParams.get('digest')!, body);
      res.writeHead(201).end();
      return true;
    });
    await client().push(parseReference(`${server.host}/app:1`), { kind: 'image', image });
    assert.deepEqual([...uploaded.keys()].sort(), [...content.blobs.keys()].sort());
    for (const [digest, bytes] of uploaded) assert.equal(sha256(bytes), digest);
    assert.equal(sessions, 3);
  });
});
