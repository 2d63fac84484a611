import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { copy } from '../../src/api/copy.js';
import { load } from '../../src/api/archive.js';
import { OciLayout } from '../../src/content/layout.js';
import type { Image } from '../../src/image/image.js';
import { ContentStore } from '../../src/content/store.js';
import { InvalidInputError, NotFoundError, TcbuildError } from '../../src/errors.js';
import { isDigest, parseDigest, sha256 } from '../../src/image/digest.js';
import { MediaType } from '../../src/image/media-types.js';
import type { Manifest } from '../../src/image/types.js';
import { Registry, parseReference, pullToStore } from '../../src/registry/index.js';
import { tcbuild } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { startFakeRegistry, type FakeContent, type FakeRegistry } from './fake-registry.js';
import {
  digestAttacks,
  oneParagraph,
  startRecordingRegistry,
  received,
  writeCanary,
  writeLayout,
  writeTarFile,
  type Canary,
  type RecordingRegistry,
  type TarMember,
} from './hostile.js';
import { buildTestImage } from './image-fixture.js';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('digests from registries, archives, layouts and the store never become paths or URLs unchecked', () => {
  let scratch: string;
  let canary: Canary;
  let attacks: string[];
  let image: Image;
  let manifest: Manifest;
  let blobs: Map<string, Buffer>;
  let realRegistry: TestRegistry;
  let recorder: RecordingRegistry;
  const servers: { stop(): Promise<void> }[] = [];
  const clients: Registry[] = [];
  const noAuth = () => ({ authConfigPath: join(scratch, 'none.json'), retry: { maxAttempts: 1, baseDelayMs: 1 } });
  const client = () => {
    const c = new Registry(noAuth());
    clients.push(c);
    return c;
  };
  const fake = async (
    content: FakeContent,
    intercept?: Parameters<typeof startFakeRegistry>[1],
  ): Promise<FakeRegistry> => {
    const server = await startFakeRegistry(content, intercept);
    servers.push(server);
    return server;
  };
  const dir = (name: string) => mkdtemp(join(scratch, `${name}-`));
  const cli = async (args: string[]) =>
    tcbuild(args, { TCBUILD_ROOT: await dir('root'), DOCKER_CONFIG: join(scratch, 'docker') });
  /** The manifest with one change, as raw bytes (a hostile source's document). */
  const tampered = (change: (m: Manifest) => void): Buffer => {
    const m = structuredClone(manifest);
    change(m);
    return Buffer.from(JSON.stringify(m));
  };
  const holdsBlob = async (repo: string, digest: string) =>
    (await fetch(`${realRegistry.url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' })).status === 200;
  const assertStoreEmpty = async (store: ContentStore) => {
    for await (const d of store.list()) assert.fail(`the store holds ${d}`);
  };
  const refusedDigest = (source: RegExp) => (err: Error) => {
    assert.ok(err instanceof InvalidInputError, `${err.constructor.name}: ${err.message}`);
    assert.match(err.message, source);
    assert.match(err.message, /is not a valid digest/);
    return true;
  };

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tcbuild-hostile-digests-'));
    canary = await writeCanary();
    attacks = digestAttacks(canary.path);
    const source = new ContentStore(join(scratch, 'source'));
    image = await buildTestImage(source, { 'app.txt': 'app\n' });
    manifest = await image.manifest();
    blobs = new Map(
      await Promise.all(
        [manifest.config, ...manifest.layers].map(async (d) => [d.digest, await source.readBuffer(d.digest)] as const),
      ),
    );
    realRegistry = await startRegistry();
    recorder = await startRecordingRegistry();
  });
  after(async () => {
    for (const c of clients) await c.close();
    for (const s of servers) await s.stop();
    await recorder?.stop();
    await realRegistry?.stop();
    await rm(canary.path, { force: true });
    await rm(scratch, { recursive: true, force: true });
  });

  it('parseDigest takes sha256 with 64 lowercase hex digits, and nothing else', () => {
    const good = sha256('x');
    assert.equal(parseDigest(good, 'test'), good);
    for (const attack of [...attacks, 42, null, undefined, { digest: good }]) {
      assert.throws(
        () => parseDigest(attack, 'the test'),
        (err: Error) => err instanceof InvalidInputError && /^the test: .* is not a valid digest/.test(err.message),
        String(attack),
      );
    }
    assert.throws(() => parseDigest(`sha512:${'a'.repeat(128)}`, 'x'), /only sha256 digests are supported/);
    assert.throws(() => parseDigest(`sha256:${'A'.repeat(64)}`, 'x'), /must be lowercase/);
    assert.throws(() => parseDigest(`sha256:${'a'.repeat(63)}`, 'x'), /63 hex digits instead of 64/);
    assert.throws(
      () => parseDigest(`sha256:${'a'.repeat(100_000)}`, 'x'),
      (err: Error) => err.message.length < 400,
    );
  });

  it('the content store refuses any other string before it becomes a path', async () => {
    const store = new ContentStore(await dir('store'));
    for (const attack of attacks) {
      const d = attack as `sha256:${string}`;
      assert.throws(() => store.path(d), InvalidInputError, attack);
      await assert.rejects(store.has(d), InvalidInputError, attack);
      await assert.rejects(store.sizeOf(d), InvalidInputError, attack);
      await assert.rejects(store.read(d), InvalidInputError, attack);
      await assert.rejects(store.readBuffer(d), InvalidInputError, attack);
      await assert.rejects(store.delete(d), InvalidInputError, attack);
    }
  });

  it('an image argument REF@DIGEST takes only a valid digest', () => {
    for (const attack of attacks)
      assert.throws(() => parseReference(`127.0.0.1:5000/app@${attack}`), InvalidInputError, attack);
  });

  it('pull refuses a manifest whose layer, config or subject digest is not one, naming its URL', async () => {
    const manifests = new Map<string, { mediaType: string; raw: Buffer }>();
    attacks.forEach((attack, i) => {
      manifests.set(`layer${i}`, {
        mediaType: MediaType.ociManifest,
        raw: tampered((m) => void (m.layers[0]!.digest = attack as `sha256:${string}`)),
      });
    });
    manifests.set('config', {
      mediaType: MediaType.ociManifest,
      raw: tampered((m) => void (m.config.digest = attacks[0] as `sha256:${string}`)),
    });
    manifests.set('subject', {
      mediaType: MediaType.ociManifest,
      raw: tampered((m) => Object.assign(m, { subject: { ...m.config, digest: attacks[0] } })),
    });
    const server = await fake({ manifests, blobs });
    for (const tag of manifests.keys()) {
      const store = new ContentStore(await dir('store'));
      await assert.rejects(
        pullToStore(client(), parseReference(`${server.host}/app:${tag}`), store, 'all'),
        refusedDigest(
          new RegExp(`at http://${escape(server.host)}/v2/app/manifests/${tag} is not a valid image manifest`),
        ),
      );
      await assertStoreEmpty(store);
    }
    const blobRequests = server.requests.filter((r) => r.url.includes('/blobs/'));
    assert.deepEqual(
      blobRequests.filter((r) => !isDigest(r.url.slice(r.url.lastIndexOf('/') + 1))),
      [],
      'no request named a blob by a bad digest',
    );

    const result = await cli(['pull', `${server.host}/app:layer0`]);
    assert.match(
      oneParagraph(result),
      new RegExp(
        `http://${escape(server.host)}/v2/app/manifests/layer0 is not a valid image manifest: layers\\[0\\]\\.digest: .* is not a valid digest`,
      ),
    );
  });

  it('pull refuses an index whose entry digest is not one, and a config whose diff_ids are not', async () => {
    const config = JSON.parse(blobs.get(manifest.config.digest)!.toString()) as { rootfs: { diff_ids: string[] } };
    config.rootfs.diff_ids = [attacks[0]!];
    const badConfig = Buffer.from(JSON.stringify(config));
    const withBadConfig = tampered(
      (m) => void (m.config = { ...m.config, digest: sha256(badConfig), size: badConfig.length }),
    );
    const index = (digest: string) =>
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: MediaType.ociIndex,
          manifests: [{ ...image.descriptor, digest, platform: { os: 'linux', architecture: 'amd64' } }],
        }),
      );
    const server = await fake({
      manifests: new Map<string, { mediaType: string; raw: Buffer }>([
        ...attacks.map((attack, i): [string, { mediaType: string; raw: Buffer }] => [
          `index${i}`,
          { mediaType: MediaType.ociIndex, raw: index(attack) },
        ]),
        ['diffids', { mediaType: MediaType.ociManifest, raw: withBadConfig }],
      ]),
      blobs: new Map([...blobs, [sha256(badConfig), badConfig]]),
    });
    for (let i = 0; i < attacks.length; i++) {
      const store = new ContentStore(await dir('store'));
      await assert.rejects(
        pullToStore(client(), parseReference(`${server.host}/app:index${i}`), store, 'all'),
        refusedDigest(/is not a valid image index: manifests\[0\]\.digest/),
      );
      await assertStoreEmpty(store);
    }
    const store = new ContentStore(await dir('store'));
    await assert.rejects(
      pullToStore(client(), parseReference(`${server.host}/app:diffids`), store, 'all'),
      refusedDigest(/config .* is not a valid image config: rootfs\.diff_ids\[0\]/),
    );
  });

  it('a malformed Docker-Content-Digest header is refused, not ignored', async () => {
    const raw = tampered(() => undefined);
    for (const attack of attacks.filter((a) => !a.includes('\n'))) {
      const server = await fake({ manifests: new Map(), blobs }, (req, res) => {
        if (!req.url!.includes('/manifests/')) return false;
        res.writeHead(200, { 'content-type': MediaType.ociManifest, 'docker-content-digest': attack });
        res.end(req.method === 'HEAD' ? undefined : raw);
        return true;
      });
      await assert.rejects(
        client().get(parseReference(`${server.host}/app:1`)),
        refusedDigest(/the Docker-Content-Digest header of http:\/\/.*\/v2\/app\/manifests\/1/),
        attack,
      );
    }
  });

  it('copy from an oci: dir refuses bad digests in index.json and in manifests, and sends no host file', async () => {
    for (const attack of attacks) {
      const layout = await dir('layout');
      await writeLayout(layout, new Map([...blobs, [image.descriptor.digest, await image.rawManifest()]]), {
        schemaVersion: 2,
        manifests: [{ ...image.descriptor, digest: attack }],
      });
      await assert.rejects(
        copy(`oci:${layout}`, `docker://${recorder.host}/evil:1`, { registry: noAuth() }),
        refusedDigest(new RegExp(`index.json of oci:${escape(layout)} is not a valid image index`)),
      );

      const evil = tampered((m) => void (m.layers[0]!.digest = attack as `sha256:${string}`));
      const evilLayout = await dir('layout');
      await writeLayout(evilLayout, new Map([...blobs, [sha256(evil), evil]]), {
        schemaVersion: 2,
        manifests: [{ mediaType: MediaType.ociManifest, digest: sha256(evil), size: evil.length }],
      });
      await assert.rejects(
        copy(`oci:${evilLayout}`, `docker://${recorder.host}/evil:1`, { registry: noAuth() }),
        refusedDigest(new RegExp(`oci:${escape(evilLayout)} is not a valid image manifest: layers\\[0\\]\\.digest`)),
      );
    }
    assert.equal(received(recorder, canary), false, 'the canary reached the registry');
    const result = await cli(['copy', `oci:${join(scratch, 'no-such-layout')}`, `${recorder.host}/evil:1`]);
    oneParagraph(result);
  });

  it('copy from an oci: dir never follows a symlinked blob, blob directory or index.json to a host file', async () => {
    const layerPointingAtCanary = tampered(
      (m) =>
        void (m.layers[0] = { mediaType: MediaType.ociLayerGzip, digest: canary.digest, size: canary.content.length }),
    );
    const top = {
      mediaType: MediaType.ociManifest,
      digest: sha256(layerPointingAtCanary),
      size: layerPointingAtCanary.length,
    };
    const canaryHex = canary.digest.slice('sha256:'.length);
    const hostDir = await dir('host-dir');
    await writeFile(join(hostDir, canaryHex), canary.content);
    const plants: [string, (layout: string) => Promise<void>][] = [
      ['an absolute symlink', (l) => symlink(canary.path, join(l, 'blobs', 'sha256', canaryHex))],
      [
        'a relative symlink',
        (l) => symlink(`${'../'.repeat(24)}${canary.path.slice(1)}`, join(l, 'blobs', 'sha256', canaryHex)),
      ],
      [
        'a symlinked blobs/sha256',
        async (l) => {
          for (const name of await readdir(join(l, 'blobs', 'sha256'))) await rm(join(l, 'blobs', 'sha256', name));
          for (const [d, data] of [...blobs, [top.digest, layerPointingAtCanary] as const])
            await writeFile(join(hostDir, d.slice('sha256:'.length)), data);
          await rm(join(l, 'blobs', 'sha256'), { recursive: true });
          await symlink(hostDir, join(l, 'blobs', 'sha256'));
        },
      ],
      [
        'a symlinked blobs',
        async (l) => {
          await mkdir(join(hostDir, 'sha256'), { recursive: true });
          for (const [d, data] of [
            ...blobs,
            [top.digest, layerPointingAtCanary] as const,
            [canary.digest, canary.content] as const,
          ]) {
            await writeFile(join(hostDir, 'sha256', d.slice('sha256:'.length)), data);
          }
          await rm(join(l, 'blobs'), { recursive: true });
          await symlink(hostDir, join(l, 'blobs'));
        },
      ],
    ];
    for (const [how, plant] of plants) {
      const layout = await dir('layout');
      await writeLayout(layout, new Map([...blobs, [top.digest, layerPointingAtCanary]]), {
        schemaVersion: 2,
        manifests: [top],
      });
      await plant(layout);
      await assert.rejects(
        copy(`oci:${layout}`, `docker://${realRegistry.host}/evil:1`, { registry: noAuth() }),
        (err: Error) => {
          assert.ok(err instanceof InvalidInputError, `${how}: ${err.constructor.name} ${err.message}`);
          assert.match(
            err.message,
            new RegExp(`^oci:${escape(layout)}: blobs/sha256/[a-f0-9]{64} is a symlink or passes through one`),
            how,
          );
          return true;
        },
      );
      assert.equal(await holdsBlob('evil', canary.digest), false, `${how}: the registry holds the host file`);
    }

    const linkedIndex = await dir('layout');
    await writeLayout(linkedIndex, blobs, {});
    await rm(join(linkedIndex, 'index.json'));
    await symlink(join(hostDir, 'index.json'), join(linkedIndex, 'index.json'));
    await writeFile(join(hostDir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [top] }));
    await assert.rejects(
      copy(`oci:${linkedIndex}`, `docker://${realRegistry.host}/evil:1`, { registry: noAuth() }),
      /index.json is a symlink/,
    );

    const fifo = await dir('layout');
    await writeLayout(fifo, blobs, { schemaVersion: 2, manifests: [top] });
    await promisify(execFile)('mkfifo', [join(fifo, 'blobs', 'sha256', top.digest.slice('sha256:'.length))]);
    await assert.rejects(
      copy(`oci:${fifo}`, `docker://${realRegistry.host}/evil:1`, { registry: noAuth() }),
      /is not a regular file/,
    );

    const result = await cli(['copy', `oci:${linkedIndex}`, `${realRegistry.host}/evil:1`]);
    assert.match(oneParagraph(result), new RegExp(`oci:${escape(linkedIndex)}: index.json is a symlink`));
  });

  it('load and copy from a docker-archive refuse ../ and absolute member paths and links out of the archive', async () => {
    const rawConfig = blobs.get(manifest.config.digest)!;
    const layer = blobs.get(manifest.layers[0]!.digest)!;
    const canaryHex = canary.digest.slice('sha256:'.length);
    const up = '../'.repeat(24);
    const archives: [string, TarMember[], RegExp][] = [
      ...[
        `${up}${canary.path.slice(1)}`,
        canary.path,
        `blobs/sha256/${up}${canary.path.slice(1)}`,
        `./..${canary.path}`,
      ].flatMap((path): [string, TarMember[], RegExp][] => [
        [
          `Layers ${path}`,
          [
            { name: 'config.json', data: rawConfig },
            {
              name: 'manifest.json',
              data: JSON.stringify([{ Config: 'config.json', RepoTags: ['evil:1'], Layers: [path] }]),
            },
          ],
          /Layers\[0\] of entry 0 is .*, which is not a path inside the archive/,
        ],
        [
          `Config ${path}`,
          [
            { name: 'layer.tar', data: layer },
            {
              name: 'manifest.json',
              data: JSON.stringify([{ Config: path, RepoTags: ['evil:1'], Layers: ['layer.tar'] }]),
            },
          ],
          /Config of entry 0 is .*, which is not a path inside the archive/,
        ],
      ]),
      ...[
        { symlink: canary.path },
        { symlink: `${up}${canary.path.slice(1)}` },
        { symlink: `../..${canary.path}` },
        { hardlink: canary.path },
        { hardlink: canary.path.slice(1) },
      ].map((link): [string, TarMember[], RegExp] => [
        `a member linked to ${JSON.stringify(link)}`,
        [
          { name: 'config.json', data: rawConfig },
          { name: `blobs/sha256/${canaryHex}`, ...link },
          {
            name: 'manifest.json',
            data: JSON.stringify([
              { Config: 'config.json', RepoTags: ['evil:1'], Layers: [`blobs/sha256/${canaryHex}`] },
            ]),
          },
        ],
        /is a link to ".*", which is not in the archive/,
      ]),
    ];
    for (const [how, members, message] of archives) {
      const path = join(await dir('archive'), 'evil.tar');
      await writeTarFile(path, members);
      const root = await dir('root');
      await assert.rejects(load(path, { root }), (err: Error) => {
        assert.ok(err instanceof TcbuildError, `${how}: ${err.message}`);
        assert.match(err.message, new RegExp(`^docker-archive:${escape(path)}`), how);
        assert.match(err.message, message, how);
        return true;
      });
      await assert.rejects(
        new OciLayout(root).blobs.readBuffer(canary.digest),
        NotFoundError,
        `${how}: the canary was loaded into the store`,
      );
      await assert.rejects(
        copy(`docker-archive:${path}`, `docker://${realRegistry.host}/evil:1`, { registry: noAuth() }),
        message,
        how,
      );
      assert.equal(await holdsBlob('evil', canary.digest), false, `${how}: the registry holds the host file`);
    }
    const path = join(await dir('archive'), 'evil.tar');
    await writeTarFile(path, archives[0]![1]);
    const result = await tcbuild(['load', '-i', path], { TCBUILD_ROOT: await dir('root') });
    assert.match(
      oneParagraph(result),
      new RegExp(`^error: docker-archive:${escape(path)}: manifest.json is not a docker-archive manifest`),
    );
  });

  it('copy from an oci-archive refuses bad digests in index.json and links out of the archive', async () => {
    for (const attack of attacks) {
      const path = join(await dir('archive'), 'evil.tar');
      await writeTarFile(path, [
        { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
        {
          name: 'index.json',
          data: JSON.stringify({ schemaVersion: 2, manifests: [{ ...image.descriptor, digest: attack }] }),
        },
      ]);
      await assert.rejects(
        copy(`oci-archive:${path}`, `docker://${recorder.host}/evil:1`, { registry: noAuth() }),
        refusedDigest(new RegExp(`index.json of oci-archive:${escape(path)} is not a valid image index`)),
      );
    }
    const layerPointingAtCanary = tampered(
      (m) =>
        void (m.layers[0] = { mediaType: MediaType.ociLayerGzip, digest: canary.digest, size: canary.content.length }),
    );
    const path = join(await dir('archive'), 'evil.tar');
    await writeTarFile(path, [
      { name: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
      ...[...blobs].map(([d, data]) => ({ name: `blobs/sha256/${d.slice(7)}`, data })),
      { name: `blobs/sha256/${sha256(layerPointingAtCanary).slice(7)}`, data: layerPointingAtCanary },
      { name: `blobs/sha256/${canary.digest.slice(7)}`, symlink: canary.path },
      {
        name: 'index.json',
        data: JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: MediaType.ociManifest,
              digest: sha256(layerPointingAtCanary),
              size: layerPointingAtCanary.length,
            },
          ],
        }),
      },
    ]);
    await assert.rejects(
      copy(`oci-archive:${path}`, `docker://${realRegistry.host}/evil:1`, { registry: noAuth() }),
      /is a link to ".*", which is not in the archive/,
    );
    assert.equal(await holdsBlob('evil', canary.digest), false);
    assert.equal(received(recorder, canary), false);
  });

  it('push of a stored image whose index.json was tampered is refused, and sends no host file', async () => {
    const root = await dir('root');
    const layout = new OciLayout(root);
    await layout.init();
    for (const data of blobs.values()) await layout.blobs.writeBuffer(data);
    // The attacker's manifest lives outside the store, and names the canary as its layer.
    const outside = join(await dir('outside'), 'manifest.json');
    const evil = tampered(
      (m) =>
        void (m.layers[0] = {
          mediaType: MediaType.ociLayerGzip,
          digest: `sha256:${up(root)}${canary.path.slice(1)}` as `sha256:${string}`,
          size: canary.content.length,
        }),
    );
    await writeFile(outside, evil);
    const indexPath = join(root, 'index.json');
    for (const digest of [
      `sha256:${up(root)}${outside.slice(1)}`,
      `sha256:${'A'.repeat(64)}`,
      `sha256:${sha256('x').slice(7)}/../../../${outside.slice(1)}`,
    ]) {
      await writeFile(
        indexPath,
        JSON.stringify({
          schemaVersion: 2,
          manifests: [
            {
              mediaType: MediaType.ociManifest,
              digest,
              size: evil.length,
              annotations: { 'io.containerd.image.name': 'docker.io/library/evil:1' },
            },
          ],
        }),
      );
      const result = await tcbuild(['push', 'evil:1', `${recorder.host}/evil:1`], {
        TCBUILD_ROOT: root,
        DOCKER_CONFIG: join(scratch, 'docker'),
      });
      assert.match(
        oneParagraph(result),
        new RegExp(`the list of images ${escape(indexPath)} is not a valid image index: manifests\\[0\\]\\.digest`),
      );
    }
    assert.equal(received(recorder, canary), false, 'the canary reached the registry');
  });
});

/** `../` enough times to climb from ROOT/blobs/sha256 to `/`. */
function up(root: string): string {
  return '../'.repeat(root.split('/').length + 2);
}
