import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { copy } from '../../src/api/copy.js';
import { load } from '../../src/api/archive.js';
import type { Image } from '../../src/image/image.js';
import { ContentStore } from '../../src/content/store.js';
import { DigestMismatchError, InvalidInputError } from '../../src/errors.js';
import { sha256 } from '../../src/image/digest.js';
import { MediaType } from '../../src/image/media-types.js';
import type { Manifest } from '../../src/image/types.js';
import { Registry, parseReference, pullToStore } from '../../src/registry/index.js';
import { tcbuild } from '../helpers/cli.js';
import { startFakeRegistry, type FakeContent, type FakeRegistry } from './fake-registry.js';
import { oneParagraph, writeLayout, writeTarFile } from './hostile.js';
import { buildTestImage } from './image-fixture.js';
import { claimingTarHeader } from '../helpers/tar-header.js';

const MiB = 1024 * 1024;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Index entries as small as JSON allows, so that a count, not a size, is what is too big. */
function indexOf(entries: number): Buffer {
  const entry = JSON.stringify({ mediaType: MediaType.ociManifest, digest: sha256('x'), size: 1 });
  return Buffer.from(`{"schemaVersion":2,"manifests":[${Array(entries).fill(entry).join(',')}]}`);
}

/** Streams `total` entries of an index lazily (no Content-Length), honouring backpressure; resolves with the bytes the client took. */
function streamHugeIndex(res: ServerResponse, total: number): Promise<number> {
  const entry = Buffer.from(`${JSON.stringify({ mediaType: MediaType.ociManifest, digest: sha256('x'), size: 1 })},`);
  res.writeHead(200, { 'content-type': MediaType.ociIndex });
  return new Promise((resolve) => {
    let written = 0;
    let i = 0;
    res.on('close', () => resolve(written));
    const pump = () => {
      while (i < total && !res.destroyed) {
        const chunk = Buffer.concat(Array<Buffer>(1000).fill(entry));
        i += 1000;
        written += chunk.length;
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
      res.end(']}');
    };
    res.write('{"schemaVersion":2,"manifests":[');
    pump();
  });
}

describe('manifest, index and config sizes from hostile registries and archives are bounded', () => {
  let scratch: string;
  let image: Image;
  let manifest: Manifest;
  let blobs: Map<string, Buffer>;
  const servers: FakeRegistry[] = [];
  const clients: Registry[] = [];
  const client = () => {
    const c = new Registry({ authConfigPath: join(scratch, 'none.json'), retry: { maxAttempts: 1, baseDelayMs: 1 } });
    clients.push(c);
    return c;
  };
  const fake = async (content: FakeContent, intercept?: Parameters<typeof startFakeRegistry>[1]) => {
    const server = await startFakeRegistry(content, intercept);
    servers.push(server);
    return server;
  };
  const dir = (name: string) => mkdtemp(join(scratch, `${name}-`));
  const store = async () => new ContentStore(await dir('store'));
  const manifestWith = (change: (m: Manifest) => void) => {
    const m = structuredClone(manifest);
    change(m);
    return { mediaType: MediaType.ociManifest, raw: Buffer.from(JSON.stringify(m)) };
  };
  const invalid = (pattern: RegExp) => (err: Error) => {
    assert.ok(err instanceof InvalidInputError, `${err.constructor.name}: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tcbuild-hostile-sizes-'));
    const source = new ContentStore(join(scratch, 'source'));
    image = await buildTestImage(source, { 'a.txt': 'a\n' });
    manifest = await image.manifest();
    blobs = new Map(
      await Promise.all(
        [manifest.config, ...manifest.layers].map(async (d) => [d.digest, await source.readBuffer(d.digest)] as const),
      ),
    );
  });
  after(async () => {
    for (const c of clients) await c.close();
    for (const s of servers) await s.stop();
    await rm(scratch, { recursive: true, force: true });
  });

  it('a manifest announced bigger than 4 MiB is refused unread, naming its URL', async () => {
    let sent = 0;
    const server = await fake({ manifests: new Map(), blobs }, (req, res) => {
      if (!req.url!.includes('/manifests/')) return false;
      res.writeHead(200, { 'content-type': MediaType.ociManifest, 'content-length': 64 * MiB });
      const chunk = Buffer.alloc(MiB, 0x20);
      const pump = () => {
        while (sent < 64 * MiB && !res.destroyed) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      pump();
      return true;
    });
    await assert.rejects(
      client().get(parseReference(`${server.host}/app:big`)),
      invalid(
        new RegExp(
          `^the manifest of ${escape(server.host)}/app:big at http://${escape(server.host)}/v2/app/manifests/big is 67108864 bytes, more than 4 MiB`,
        ),
      ),
    );
    assert.ok(sent < 32 * MiB, `the server got to send ${sent} bytes`);
    const result = await tcbuild(['pull', `${server.host}/app:big`], {
      TCBUILD_ROOT: await dir('root'),
      DOCKER_CONFIG: join(scratch, 'docker'),
    });
    assert.match(oneParagraph(result), /is 67108864 bytes, more than 4 MiB, the most tcbuild accepts for it/);
  });

  it('an index of 10^6 entries streamed without a length is refused after 4 MiB, not read whole', async () => {
    let taken: Promise<number> | undefined;
    const server = await fake({ manifests: new Map(), blobs }, (req, res) => {
      if (!req.url!.includes('/manifests/')) return false;
      taken = streamHugeIndex(res, 1_000_000);
      return true;
    });
    await assert.rejects(
      pullToStore(client(), parseReference(`${server.host}/app:huge`), await store(), 'all'),
      invalid(/manifests\/huge is larger than 4 MiB, the most tcbuild accepts for it/),
    );
    const written = await taken!;
    assert.ok(written < 48 * MiB, `the server got to send ${written} of ${1_000_000 * 77} bytes`);
  });

  it('an index under 4 MiB with more than 10 000 entries is refused by count', async () => {
    const server = await fake({
      manifests: new Map([['many', { mediaType: MediaType.ociIndex, raw: indexOf(20_000) }]]),
      blobs,
    });
    assert.ok(indexOf(20_000).length < 4 * MiB);
    await assert.rejects(
      pullToStore(client(), parseReference(`${server.host}/app:many`), await store(), 'all'),
      invalid(/is not a valid image index: manifests has 20000 entries, more than the 10000 tcbuild accepts/),
    );
  });

  it('a config whose descriptor says it is bigger than 16 MiB is refused before it is fetched', async () => {
    const server = await fake({ manifests: new Map([['1', manifestWith((m) => void (m.config.size = 1e12))]]), blobs });
    await assert.rejects(
      pullToStore(client(), parseReference(`${server.host}/app:1`), await store(), 'all'),
      invalid(/config .* is 1000000000000 bytes, more than 16 MiB/),
    );
    assert.deepEqual(
      server.requests.filter((r) => r.url.includes(manifest.config.digest)),
      [],
    );
  });

  it('a descriptor size that disagrees with the bytes is an error naming the blob', async () => {
    const server = await fake({
      manifests: new Map([
        ['short-config', manifestWith((m) => void (m.config.size = 10))],
        ['long-layer', manifestWith((m) => void (m.layers[0]!.size += 100))],
      ]),
      blobs,
    });
    await assert.rejects(
      pullToStore(client(), parseReference(`${server.host}/app:short-config`), await store(), 'all'),
      (err: Error) => {
        assert.ok(err instanceof DigestMismatchError, String(err));
        assert.match(
          err.message,
          new RegExp(
            `blob ${manifest.config.digest} of ${escape(server.host)}/app\\) sent more than the 10 bytes its descriptor says`,
          ),
        );
        return true;
      },
    );
    await assert.rejects(
      pullToStore(client(), parseReference(`${server.host}/app:long-layer`), await store(), 'all'),
      (err: Error) => {
        assert.ok(err instanceof DigestMismatchError, String(err));
        assert.match(
          err.message,
          new RegExp(
            `sent ${manifest.layers[0]!.size} bytes, not the ${manifest.layers[0]!.size + 100} its descriptor says for ${manifest.layers[0]!.digest}`,
          ),
        );
        return true;
      },
    );
  });

  it('a size that is not a byte count makes the descriptor invalid', async () => {
    const sizes: unknown[] = [-1, 1.5, '12', null, 2 ** 53, Number.MAX_VALUE];
    const server = await fake({
      manifests: new Map(
        sizes.map((size, i) => [`s${i}`, manifestWith((m) => void ((m.layers[0] as { size: unknown }).size = size))]),
      ),
      blobs,
    });
    for (let i = 0; i < sizes.length; i++) {
      await assert.rejects(
        pullToStore(client(), parseReference(`${server.host}/app:s${i}`), await store(), 'all'),
        invalid(/is not a valid image manifest: layers\[0\]\.size is not a byte count/),
        String(sizes[i]),
      );
    }
  });

  it('index.json of an oci: dir or oci-archive over 4 MiB is refused, and so is a layout manifest its descriptor says is', async () => {
    const big = Buffer.alloc(5 * MiB, 0x20);
    const layout = await dir('layout');
    await writeLayout(layout, blobs, {});
    await writeFile(join(layout, 'index.json'), big);
    await assert.rejects(
      copy(`oci:${layout}`, `oci:${await dir('out')}`),
      invalid(new RegExp(`^index.json of oci:${escape(layout)} is 5242880 bytes, more than 4 MiB`)),
    );

    const archive = join(await dir('archive'), 'big.tar');
    await writeTarFile(archive, [
      { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      { name: 'index.json', data: big },
    ]);
    await assert.rejects(
      copy(`oci-archive:${archive}`, `oci:${await dir('out')}`),
      invalid(new RegExp(`^"index.json" of oci-archive:${escape(archive)} is 5242880 bytes, more than 4 MiB`)),
    );

    const claimed = await dir('layout');
    await writeLayout(claimed, new Map([...blobs, [image.descriptor.digest, await image.rawManifest()]]), {
      schemaVersion: 2,
      manifests: [{ ...image.descriptor, size: 5 * MiB }],
    });
    await assert.rejects(
      copy(`oci:${claimed}`, `oci:${await dir('out')}`),
      invalid(new RegExp(`${image.descriptor.digest} of oci:${escape(claimed)} is 5242880 bytes, more than 4 MiB`)),
    );
  });

  it('a docker-archive manifest.json or config over 16 MiB is refused', async () => {
    const huge = Buffer.alloc(17 * MiB, 0x20);
    const archive = join(await dir('archive'), 'big.tar');
    await writeTarFile(archive, [{ name: 'manifest.json', data: huge }]);
    await assert.rejects(
      load(archive, { root: await dir('root') }),
      invalid(new RegExp(`^"manifest.json" of docker-archive:${escape(archive)} is 17825792 bytes, more than 16 MiB`)),
    );
    await writeTarFile(archive, [
      { name: 'config.json', data: huge },
      { name: 'manifest.json', data: JSON.stringify([{ Config: 'config.json', RepoTags: null, Layers: [] }]) },
    ]);
    await assert.rejects(
      load(archive, { root: await dir('root') }),
      invalid(/"config.json" of docker-archive:.* is 17825792 bytes, more than 16 MiB/),
    );
  });

  it('a PAX header or GNU long name that claims gigabytes is refused, not allocated', async () => {
    for (const type of ['x', 'L']) {
      const archive = join(await dir('archive'), 'pax.tar');
      await writeFile(
        archive,
        Buffer.concat([claimingTarHeader('././@PaxHeader', type, 8 * 1024 * MiB), Buffer.alloc(1024)]),
      );
      await assert.rejects(
        load(archive, { root: await dir('root') }),
        invalid(new RegExp(`of docker-archive:${escape(archive)} is 8589934592 bytes, more than 1 MiB`)),
        type,
      );
    }
  });
});
