import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NotFoundError } from '../../src/errors.js';
import { MediaType } from '../../src/image/media-types.js';
import type { Descriptor } from '../../src/image/types.js';
import { parseChallenges } from '../../src/registry/auth.js';
import { loadCredentials, normalizeAuthKey } from '../../src/registry/docker-config.js';
import { manifestMediaType } from '../../src/registry/manifest.js';
import { selectPlatform } from '../../src/image/platform-select.js';
import { backoffDelay, parseRetryAfter } from '../../src/registry/retry.js';
import { isLoopbackHost } from '../../src/registry/transport.js';

describe('WWW-Authenticate parsing', () => {
  it('reads a bearer challenge with quoted params', () => {
    assert.deepEqual(
      parseChallenges(
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push"',
      ),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.docker.io/token',
            service: 'registry.docker.io',
            scope: 'repository:library/busybox:pull,push',
          },
        },
      ],
    );
  });
  it('reads several challenges, unquoted values and escapes', () => {
    assert.deepEqual(
      parseChallenges(['Basic realm="a \\"b\\""', 'Bearer realm=https://x/token, error="insufficient_scope"']),
      [
        { scheme: 'basic', params: { realm: 'a "b"' } },
        { scheme: 'bearer', params: { realm: 'https://x/token', error: 'insufficient_scope' } },
      ],
    );
    assert.deepEqual(parseChallenges(undefined), []);
  });
});

describe('retry timing', () => {
  it('parses Retry-After seconds and dates', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4000), 6000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });
  it('backs off exponentially with jitter, capped', () => {
    const policy = { maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    for (let i = 0; i < 50; i++) {
      const d3 = backoffDelay(policy, 3);
      assert.ok(d3 >= 200 && d3 <= 400, String(d3));
      assert.ok(backoffDelay(policy, 9) <= 1000);
    }
    assert.equal(backoffDelay(policy, 1, 60_000), 1000);
  });
});

describe('docker config credentials', () => {
  it('normalizes the keys docker writes', () => {
    assert.equal(normalizeAuthKey('https://index.docker.io/v1/'), 'docker.io');
    assert.equal(normalizeAuthKey('http://localhost:5000/v2/'), 'localhost:5000');
    assert.equal(normalizeAuthKey('Registry.Example.com'), 'registry.example.com');
  });
  it('reads auth and username/password entries', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tcbuild-dockercfg-'));
    try {
      const path = join(dir, 'config.json');
      await writeFile(
        path,
        JSON.stringify({
          auths: {
            'https://index.docker.io/v1/': { auth: Buffer.from('hub:pa:ss').toString('base64') },
            'localhost:5000': { username: 'me', password: 'pw' },
          },
        }),
      );
      assert.deepEqual(await loadCredentials('docker.io', path), { username: 'hub', password: 'pa:ss' });
      assert.deepEqual(await loadCredentials('localhost:5000', path), { username: 'me', password: 'pw' });
      assert.equal(await loadCredentials('elsewhere.io', path), undefined);
      assert.equal(await loadCredentials('docker.io', join(dir, 'absent.json')), undefined);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('loopback hosts', () => {
  it('knows which hosts may fall back to plain HTTP', () => {
    for (const host of ['localhost', 'localhost:5000', '127.0.0.1:5000', '127.1.2.3', '[::1]:5000'])
      assert.ok(isLoopbackHost(host), host);
    for (const host of ['docker.io', '10.0.0.1:5000', 'localhost.example.com', '[::2]:5000'])
      assert.equal(isLoopbackHost(host), false, host);
  });
});

describe('manifest media types', () => {
  it('prefers the manifest field, then Content-Type, then the shape', () => {
    assert.equal(
      manifestMediaType(
        Buffer.from(`{"schemaVersion":2,"mediaType":"${MediaType.dockerManifest}"}`),
        MediaType.ociManifest,
        'x',
      ),
      MediaType.dockerManifest,
    );
    assert.equal(
      manifestMediaType(Buffer.from('{"schemaVersion":2}'), `${MediaType.dockerManifestList}; charset=utf-8`, 'x'),
      MediaType.dockerManifestList,
    );
    assert.equal(
      manifestMediaType(Buffer.from('{"schemaVersion":2,"manifests":[]}'), 'application/json', 'x'),
      MediaType.ociIndex,
    );
    assert.equal(
      manifestMediaType(Buffer.from('{"schemaVersion":2,"config":{}}'), undefined, 'x'),
      MediaType.ociManifest,
    );
  });
  it('refuses schema 1 and things that are not manifests', () => {
    assert.throws(
      () => manifestMediaType(Buffer.from('{"schemaVersion":1}'), 'application/json', 'r:1'),
      /r:1 is a Docker schema 1 manifest/,
    );
    assert.throws(
      () => manifestMediaType(Buffer.from('{"schemaVersion":2,"mediaType":"text/plain"}'), undefined, 'r:1'),
      /not an image manifest or index/,
    );
    assert.throws(() => manifestMediaType(Buffer.from('<html>'), 'text/html', 'r:1'), /not valid JSON/);
  });
});

describe('platform selection', () => {
  const entry = (n: number, platform?: Descriptor['platform']): Descriptor => ({
    mediaType: MediaType.ociManifest,
    digest: `sha256:${String(n).repeat(64)}`,
    size: 1,
    ...(platform ? { platform } : {}),
  });
  const manifests = [
    entry(1, { os: 'linux', architecture: 'amd64' }),
    entry(2, { os: 'linux', architecture: 'arm64' }),
    entry(3, { os: 'linux', architecture: 'arm', variant: 'v7' }),
    entry(4, { os: 'unknown', architecture: 'unknown' }),
  ];
  it('matches normalized platforms', () => {
    assert.equal(selectPlatform(manifests, { os: 'linux', architecture: 'x86_64' }, 'r').digest, manifests[0]!.digest);
    assert.equal(
      selectPlatform(manifests, { os: 'linux', architecture: 'arm64', variant: 'v8' }, 'r').digest,
      manifests[1]!.digest,
    );
    assert.equal(selectPlatform(manifests, { os: 'linux', architecture: 'arm' }, 'r').digest, manifests[2]!.digest);
  });
  it('lists what there is when the platform is missing', () => {
    assert.throws(
      () => selectPlatform(manifests, { os: 'windows', architecture: 'amd64' }, 'localhost:5000/app:1'),
      (err: Error) =>
        err instanceof NotFoundError &&
        err.message ===
          'localhost:5000/app:1 has no image for windows/amd64; it has linux/amd64, linux/arm64, linux/arm/v7',
    );
  });
});
