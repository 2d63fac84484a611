import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type RequestListener,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { Image } from '../../src/image/image.js';
import { ContentStore } from '../../src/content/store.js';
import { sha256 } from '../../src/image/digest.js';
import { MediaType } from '../../src/image/media-types.js';
import { Registry, parseReference, pullToStore, type RegistryOptions } from '../../src/registry/index.js';
import { tcbuild } from '../helpers/cli.js';
import { selfSignedCertificate } from '../helpers/registry.js';
import { oneParagraph } from './hostile.js';
import { buildTestImage } from './image-fixture.js';

const USER = 'me';
const PASSWORD = 'hunter2-secret';
const TOKEN = 'bearer-token-secret';
const BASIC = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
/** Nothing of these may reach another origin, an error message or a log. */
const SECRETS = [PASSWORD, BASIC.slice('Basic '.length), TOKEN, 'urlpass'];

interface Seen {
  host: string;
  method: string;
  path: string;
  authorization: string | undefined;
  tls: boolean;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer) => void;

interface Origin {
  port: number;
  seen: Seen[];
  stop(): Promise<void>;
}

/**
 * A loopback server recording every request (its Host, Authorization, and whether it came over
 * TLS). With `tls`, one port speaks both TLS and plain HTTP (told apart by the first byte), so
 * an https→http downgrade to the very same host and port can be seen.
 */
async function startOrigin(handle: Handler, tls?: { key: string; cert: string }): Promise<Origin> {
  const seen: Seen[] = [];
  const listener: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url!, `http://${req.headers.host}`);
      seen.push({
        host: req.headers.host ?? '',
        method: req.method!,
        path: url.pathname,
        authorization: req.headers.authorization,
        tls: (req.socket as TLSSocket).encrypted === true,
      });
      handle(req, res, url, Buffer.concat(chunks));
    });
  };
  const plain = createHttpServer(listener);
  // As an HTTP proxy: a CONNECT tunnel carries plain HTTP to the named host, served here too.
  plain.on('connect', (_req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) socket.unshift(head);
    plain.emit('connection', socket);
  });
  const secure = tls ? createHttpsServer(tls, listener) : undefined;
  const front = createNetServer((socket: Socket) => {
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      (first[0] === 0x16 && secure ? secure : plain).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return {
    port: (front.address() as AddressInfo).port,
    seen,
    stop: async () => {
      plain.closeAllConnections();
      secure?.closeAllConnections();
      await new Promise<void>((resolve) => front.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, value: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(value));
}

describe('registry credentials go only to the registry’s own origin', () => {
  let scratch: string;
  let image: Image;
  let blobs: Map<string, Buffer>;
  let rawManifest: Buffer;
  let authConfigPath: string;
  let registry: Origin;
  let other: Origin;
  let tlsRegistry: Origin;
  let certsDir: string;
  const clients: Registry[] = [];

  /** How the hostile registry behaves, set by each test. */
  const plan = {
    mode: 'basic' as 'basic' | 'bearer',
    /** The Location of a new upload session. */
    uploadLocation: (_self: string) => '/v2/app/blobs/uploads/1',
    /** Where blob GETs are redirected to (undefined: served). */
    blobLocation: undefined as ((self: string, digest: string) => string) | undefined,
    nextLink: (_self: string) => '',
    /** The other origin answers with a challenge of its own instead of taking uploads. */
    otherLures: false,
  };

  const serveStorage = (res: ServerResponse, url: URL) => {
    const digest = /sha256:[a-f0-9]{64}/.exec(url.pathname)?.[0];
    const data = digest && blobs.get(digest);
    if (data) return void res.writeHead(200, { 'content-length': data.length }).end(data);
    res.writeHead(404).end();
  };

  /** A registry requiring Basic (or a Bearer token from its own /token) on /v2/; anything else on it needs nothing. */
  const registryHandler: Handler = (req, res, url, body) => {
    const self = `${(req.socket as TLSSocket).encrypted ? 'https' : 'http'}://${req.headers.host}`;
    if (url.pathname === '/token')
      return req.headers.authorization === BASIC
        ? json(res, { token: TOKEN, expires_in: 300 })
        : void res.writeHead(401).end();
    if (url.pathname.startsWith('/storage/')) return serveStorage(res, url);
    if (url.pathname.startsWith('/upload'))
      return void res.writeHead(req.method === 'PATCH' ? 202 : 201, { location: url.pathname }).end();
    const expected = plan.mode === 'basic' ? BASIC : `Bearer ${TOKEN}`;
    if (req.headers.authorization !== expected) {
      const challenge =
        plan.mode === 'basic' ? 'Basic realm="hostile"' : `Bearer realm="${self}/token",service="hostile"`;
      return void res
        .writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' })
        .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
    }
    if (url.pathname === '/v2/') return json(res, {});
    if (url.pathname.includes('/manifests/')) {
      if (req.method === 'PUT') return void res.writeHead(201, { 'docker-content-digest': sha256(body) }).end();
      return void res
        .writeHead(200, {
          'content-type': MediaType.ociManifest,
          'docker-content-digest': sha256(rawManifest),
          'content-length': rawManifest.length,
        })
        .end(req.method === 'HEAD' ? undefined : rawManifest);
    }
    if (url.pathname.endsWith('/blobs/uploads/') && req.method === 'POST')
      return void res.writeHead(202, { location: plan.uploadLocation(self) }).end();
    if (url.pathname.includes('/blobs/uploads/'))
      return void res.writeHead(req.method === 'PATCH' ? 202 : 201, { location: url.pathname }).end();
    if (url.pathname.includes('/blobs/')) {
      if (req.method === 'HEAD') return void res.writeHead(404).end();
      const digest = url.pathname.slice(url.pathname.lastIndexOf('/') + 1);
      if (plan.blobLocation) return void res.writeHead(307, { location: plan.blobLocation(self, digest) }).end();
      return serveStorage(res, url);
    }
    if (url.pathname.endsWith('/tags/list'))
      return json(res, { tags: ['a'] }, { link: `<${plan.nextLink(self)}>; rel="next"` });
    if (url.pathname === '/v2/_catalog')
      return json(res, { repositories: ['a'] }, { link: `<${plan.nextLink(self)}>; rel="next"` });
    if (url.pathname.includes('/referrers/'))
      return void res.writeHead(307, { location: `http://127.0.0.1:${other.port}/referrers` }).end();
    res.writeHead(404).end();
  };

  /** Another origin that would gladly take credentials: it serves blobs, pages and uploads, or lures with a challenge. */
  const otherHandler: Handler = (req, res, url) => {
    if (plan.otherLures) {
      return void res
        .writeHead(401, {
          'www-authenticate': `Bearer realm="http://127.0.0.1:${other.port}/token",service="evil", Basic realm="evil"`,
        })
        .end();
    }
    if (url.pathname.startsWith('/storage/back/'))
      return void res
        .writeHead(307, {
          location: `http://127.0.0.1:${registry.port}/storage/${url.pathname.slice('/storage/back/'.length)}`,
        })
        .end();
    if (url.pathname.startsWith('/storage/')) return serveStorage(res, url);
    if (url.pathname.startsWith('/upload'))
      return void res.writeHead(req.method === 'PATCH' ? 202 : 201, { location: url.pathname }).end();
    if (url.pathname.endsWith('/tags/list')) return json(res, { tags: ['b'] });
    if (url.pathname === '/v2/_catalog') return json(res, { repositories: ['b'] });
    if (url.pathname === '/referrers')
      return json(
        res,
        { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] },
        { 'content-type': MediaType.ociIndex },
      );
    res.writeHead(404).end();
  };

  const client = (opts: RegistryOptions = {}) => {
    const c = new Registry({ authConfigPath, retry: { maxAttempts: 2, baseDelayMs: 1 }, ...opts });
    clients.push(c);
    return c;
  };
  const reset = () => {
    for (const o of [registry, other, tlsRegistry]) o.seen.length = 0;
    Object.assign(plan, {
      mode: 'basic',
      uploadLocation: () => '/v2/app/blobs/uploads/1',
      blobLocation: undefined,
      nextLink: () => '',
      otherLures: false,
    });
  };
  /** Requests that carried credentials but were not to `port` under the name 127.0.0.1 (over TLS when `tls`). */
  const leaked = (origins: Origin[], port: number, tls = false) =>
    origins
      .flatMap((o) => o.seen)
      .filter(
        (s) =>
          s.authorization !== undefined &&
          (s.host !== `127.0.0.1:${port}` || s.tls !== tls || !(s.path.startsWith('/v2/') || s.path === '/token')),
      );
  const authorizedOwn = (o: Origin) =>
    o.seen.filter((s) => s.authorization !== undefined && s.path.startsWith('/v2/')).length;
  const assertNoSecrets = (text: string) => {
    for (const secret of SECRETS) assert.ok(!text.includes(secret), `"${secret}" appears in: ${text}`);
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tcbuild-credential-origin-'));
    image = await buildTestImage(new ContentStore(join(scratch, 'source')), { 'secret.txt': 'x\n' });
    const m = await image.manifest();
    rawManifest = await image.rawManifest();
    const source = new ContentStore(join(scratch, 'source'));
    blobs = new Map(
      await Promise.all(
        [m.config, ...m.layers].map(async (d) => [d.digest, await source.readBuffer(d.digest)] as const),
      ),
    );
    registry = await startOrigin(registryHandler);
    other = await startOrigin(otherHandler);
    const cert = await selfSignedCertificate();
    tlsRegistry = await startOrigin(registryHandler, cert);
    certsDir = join(scratch, 'certs.d');
    await mkdir(join(certsDir, `127.0.0.1:${tlsRegistry.port}`), { recursive: true });
    await writeFile(join(certsDir, `127.0.0.1:${tlsRegistry.port}`, 'ca.crt'), cert.cert);
    authConfigPath = join(scratch, 'config.json');
    const auth = { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') };
    await writeFile(
      authConfigPath,
      JSON.stringify({ auths: { [`127.0.0.1:${registry.port}`]: auth, [`127.0.0.1:${tlsRegistry.port}`]: auth } }),
    );
  });
  after(async () => {
    for (const c of clients) await c.close();
    for (const o of [registry, other, tlsRegistry]) await o?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  for (const mode of ['basic', 'bearer'] as const) {
    const uploadLocations: [string, (self: string) => string][] = [
      ['another port', () => `http://127.0.0.1:${other.port}/upload/1`],
      ['another host name for the same port', () => `http://localhost:${registry.port}/upload/1`],
      ['a scheme-relative URL', () => `//127.0.0.1:${other.port}/upload/1`],
      ['userinfo in the URL', () => `http://user:urlpass@127.0.0.1:${other.port}/upload/1`],
      ['the registry as userinfo', () => `http://127.0.0.1:${registry.port}@127.0.0.1:${other.port}/upload/1`],
      ['an upper-case scheme', () => `HTTP://127.0.0.1:${other.port}/upload/1`],
    ];
    for (const [how, location] of uploadLocations) {
      it(`${mode}: an upload Location to ${how} gets no credentials`, async () => {
        reset();
        plan.mode = mode;
        plan.uploadLocation = location;
        await client().push(parseReference(`127.0.0.1:${registry.port}/app:1`), { kind: 'image', image });
        assert.ok(authorizedOwn(registry) > 0, 'the registry itself got the credentials');
        assert.deepEqual(leaked([registry, other], registry.port), []);
        assert.ok(
          other.seen.length + registry.seen.filter((s) => s.host.startsWith('localhost')).length > 0,
          'the upload went where it was sent',
        );
      });
    }

    it(`${mode}: a challenge from the upload's other origin is not answered with the registry's credentials`, async () => {
      reset();
      plan.mode = mode;
      plan.uploadLocation = () => `http://user:urlpass@127.0.0.1:${other.port}/upload/1`;
      plan.otherLures = true;
      await assert.rejects(
        client().push(parseReference(`127.0.0.1:${registry.port}/app:1`), { kind: 'image', image }),
        (err: Error) => {
          assertNoSecrets(`${err.message} ${(err as { hint?: string }).hint ?? ''}`);
          assert.match(err.message, new RegExp(`http://127\\.0\\.0\\.1:${other.port}/upload/1`));
          return true;
        },
      );
      assert.deepEqual(
        other.seen.filter((s) => s.authorization !== undefined),
        [],
      );
      assert.deepEqual(
        other.seen.filter((s) => s.path === '/token'),
        [],
        'the lure was not followed',
      );
    });

    const blobLocations: [string, (self: string, digest: string) => string][] = [
      ['another port (S3-style storage)', (_s, d) => `http://127.0.0.1:${other.port}/storage/${d}`],
      ['another host name for the same port', (_s, d) => `http://localhost:${registry.port}/storage/${d}`],
      ['userinfo in the URL', (_s, d) => `http://user:urlpass@127.0.0.1:${other.port}/storage/${d}`],
      ['a scheme-relative URL', (_s, d) => `//127.0.0.1:${other.port}/storage/${d}`],
      [
        'another origin that redirects back to the registry',
        (_s, d) => `http://127.0.0.1:${other.port}/storage/back/${d}`,
      ],
    ];
    for (const [how, location] of blobLocations) {
      it(`${mode}: a blob GET redirected to ${how} is followed without credentials`, async () => {
        reset();
        plan.mode = mode;
        plan.blobLocation = location;
        const store = new ContentStore(await mkdtemp(join(scratch, 'pulled-')));
        await pullToStore(client(), parseReference(`127.0.0.1:${registry.port}/app:1`), store, 'all');
        assert.ok(await store.has(image.descriptor.digest));
        assert.ok(authorizedOwn(registry) > 0);
        assert.ok(
          [...registry.seen, ...other.seen].some((s) => s.path.startsWith('/storage/')),
          'the redirect was followed',
        );
        assert.deepEqual(leaked([registry, other], registry.port), []);
      });
    }

    const links: [string, (self: string) => string][] = [
      ['another port', () => `http://127.0.0.1:${other.port}/v2/app/tags/list?last=a`],
      ['another host name for the same port', () => `http://localhost:${other.port}/v2/app/tags/list?last=a`],
      ['userinfo in the URL', () => `http://user:urlpass@127.0.0.1:${other.port}/v2/app/tags/list?last=a`],
    ];
    for (const [how, link] of links) {
      it(`${mode}: a Link to the next page on ${how} gets no credentials (tags and catalog)`, async () => {
        reset();
        plan.mode = mode;
        plan.nextLink = link;
        assert.deepEqual(await client().listTags(parseReference(`127.0.0.1:${registry.port}/app`)), ['a', 'b']);
        plan.nextLink = () => link('').replace('/v2/app/tags/list', '/v2/_catalog');
        assert.deepEqual(await client().catalog(`127.0.0.1:${registry.port}`), ['a', 'b']);
        assert.ok(authorizedOwn(registry) > 0);
        assert.deepEqual(leaked([registry, other], registry.port), []);
      });
    }

    it(`${mode}: a referrers request redirected elsewhere gets no credentials`, async () => {
      reset();
      plan.mode = mode;
      assert.deepEqual(
        await client().referrers(parseReference(`127.0.0.1:${registry.port}/app@${image.descriptor.digest}`)),
        [],
      );
      assert.ok(other.seen.some((s) => s.path === '/referrers'));
      assert.deepEqual(leaked([registry, other], registry.port), []);
    });

    it(`${mode}: after an https→http downgrade on the same host and port, no credentials`, async () => {
      reset();
      plan.mode = mode;
      const tlsClient = () => client({ certsDir });
      const ref = parseReference(`127.0.0.1:${tlsRegistry.port}/app:1`);
      plan.uploadLocation = () => `http://127.0.0.1:${tlsRegistry.port}/upload/1`;
      await tlsClient().push(ref, { kind: 'image', image });
      plan.blobLocation = (_s, d) => `http://127.0.0.1:${tlsRegistry.port}/storage/${d}`;
      await pullToStore(tlsClient(), ref, new ContentStore(await mkdtemp(join(scratch, 'pulled-'))), 'all');
      assert.ok(
        tlsRegistry.seen.some((s) => !s.tls),
        'plain HTTP requests were made',
      );
      assert.ok(
        tlsRegistry.seen.some((s) => s.tls && s.authorization !== undefined),
        'the TLS origin got the credentials',
      );
      assert.deepEqual(leaked([tlsRegistry], tlsRegistry.port, true), []);
    });
  }

  it('a redirect loop and an unreachable Location name URLs without userinfo', async () => {
    reset();
    plan.uploadLocation = () => 'http://user:urlpass@127.0.0.1:1/upload/1';
    await assert.rejects(
      client().push(parseReference(`127.0.0.1:${registry.port}/app:1`), { kind: 'image', image }),
      (err: Error) => {
        assertNoSecrets(err.message);
        assert.match(err.message, /cannot reach http:\/\/127\.0\.0\.1:1 /);
        return true;
      },
    );
    plan.blobLocation = (self, d) => `${self.replace('//', '//user:urlpass@')}/v2/app/blobs/${d}`;
    await assert.rejects(
      pullToStore(
        client(),
        parseReference(`127.0.0.1:${registry.port}/app:1`),
        new ContentStore(await mkdtemp(join(scratch, 'pulled-'))),
        'all',
      ),
      (err: Error) => {
        assertNoSecrets(err.message);
        assert.match(err.message, /too many redirects/);
        return true;
      },
    );
  });
});

describe('Basic credentials go to a token realm over plain HTTP only where the user allows it', () => {
  let scratch: string;
  let proxy: Origin;
  const realmRequests: Seen[] = [];

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tcbuild-token-realm-'));
    await mkdir(join(scratch, 'docker'));
    await writeFile(
      join(scratch, 'docker', 'config.json'),
      JSON.stringify({ auths: { 'registry.test': { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }),
    );
    // Names that are not loopback reach these handlers through an HTTP proxy (HTTP_PROXY), as they would on a network.
    proxy = await startOrigin((req, res, url) => {
      if (url.host === 'auth.test') {
        realmRequests.push({
          host: url.host,
          method: req.method!,
          path: url.pathname,
          authorization: req.headers.authorization,
          tls: false,
        });
        return req.headers.authorization === BASIC ? json(res, { token: TOKEN }) : void res.writeHead(401).end();
      }
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        return void res
          .writeHead(401, { 'www-authenticate': 'Bearer realm="http://auth.test/token",service="registry.test"' })
          .end();
      }
      if (url.pathname === '/v2/') return json(res, {});
      if (url.pathname.endsWith('/tags/list')) return json(res, { tags: ['1'] });
      res.writeHead(404).end();
    });
  });
  after(async () => {
    await proxy?.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  const cli = (args: string[]) => {
    const proxyUrl = `http://127.0.0.1:${proxy.port}`;
    return tcbuild(args, {
      TCBUILD_ROOT: join(scratch, 'root'),
      DOCKER_CONFIG: join(scratch, 'docker'),
      HTTP_PROXY: proxyUrl,
      http_proxy: proxyUrl,
      NO_PROXY: '',
      no_proxy: '',
    });
  };

  it('refuses an http realm on a host not marked insecure, with one paragraph and no secret in it', async () => {
    const result = await cli(['ls-tags', '--insecure-registry', 'registry.test', 'registry.test/app']);
    const text = oneParagraph(result);
    assert.match(
      text,
      /registry\.test asks for your password to be sent to its token service at http:\/\/auth\.test\/token over plain HTTP/,
    );
    assert.match(text, /--insecure-registry auth\.test/);
    for (const secret of SECRETS) assert.ok(!text.includes(secret));
    assert.deepEqual(realmRequests, [], 'the realm was not asked at all');
  });

  it('sends them when the realm host is marked insecure', async () => {
    const result = await cli([
      'ls-tags',
      '--insecure-registry',
      'registry.test',
      '--insecure-registry',
      'auth.test',
      'registry.test/app',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, '1\n');
    assert.deepEqual(
      realmRequests.map((r) => r.authorization),
      [BASIC],
    );
  });
});
