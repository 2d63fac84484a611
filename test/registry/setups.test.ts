import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContentStore } from '../../src/content/store.js';
import { NotFoundError } from '../../src/errors.js';
import { Registry, UnauthorizedError, parseReference, pullToStore } from '../../src/registry/index.js';
import { startRegistry, type RegistrySetup, type TestRegistry } from '../helpers/registry.js';
import { buildTestImage } from './image-fixture.js';

const SETUPS: [string, RegistrySetup][] = [
  ['open', {}],
  ['htpasswd Basic behind TLS (certs.d CA)', { auth: 'htpasswd', tls: true }],
  ['token auth (JWT token server)', { auth: 'token' }],
];

for (const [title, setup] of SETUPS) {
  describe(`docker-registry, ${title}`, () => {
    let registry: TestRegistry;
    let scratch: string;
    let client: Registry;
    const ref = (name: string) => parseReference(`${registry.host}/${name}`);
    const config = async (password: string | undefined) => {
      const path = join(scratch, `config-${password ?? 'none'}.json`);
      const auths =
        password === undefined
          ? {}
          : { [registry.host]: { auth: Buffer.from(`${registry.username}:${password}`).toString('base64') } };
      await writeFile(path, JSON.stringify({ auths }));
      return path;
    };
    const newClient = async (password: string | undefined) =>
      new Registry({
        authConfigPath: await config(password),
        ...(registry.certsDir ? { certsDir: registry.certsDir } : {}),
      });

    before(async () => {
      registry = await startRegistry(setup);
      scratch = await mkdtemp(join(tmpdir(), 'tcbuild-setup-'));
      client = await newClient(registry.password);
    });
    after(async () => {
      await client?.close();
      await registry?.stop();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('pushes, pulls, copies (also as a remote retag), lists tags and deletes', async () => {
      const source = new ContentStore(join(scratch, 'source'));
      const image = await buildTestImage(source, { 'setup.txt': `${title}\n` });
      await client.push(ref('team/app:1'), { kind: 'image', image });

      const store = new ContentStore(join(scratch, 'pulled'));
      const { top } = await pullToStore(client, ref('team/app:1'), store, 'all');
      assert.equal(top.digest, image.descriptor.digest);
      for (const d of [(await image.manifest()).config, ...(await image.manifest()).layers])
        assert.ok(await store.has(d.digest));

      await client.push(ref('team/app:2'), await client.get(ref('team/app:1')));
      await client.push(ref('team/copy:1'), await client.get(ref('team/app:1')));
      assert.equal((await client.resolve(ref('team/copy:1'))).digest, image.descriptor.digest);
      assert.deepEqual((await client.listTags(ref('team/app'))).sort(), ['1', '2']);

      assert.equal(await client.delete(ref('team/copy:1')), image.descriptor.digest);
      await assert.rejects(client.resolve(ref('team/copy:1')), NotFoundError);
    });

    if (setup.auth) {
      it('says "unauthorized" for wrong credentials, without a retry loop', { timeout: 120_000 }, async () => {
        // A retry would wait an hour and time the test out; no timing assert that load could break.
        const wrong = new Registry({
          authConfigPath: await config('wrong-password'),
          retry: { baseDelayMs: 3_600_000, maxDelayMs: 3_600_000 },
          ...(registry.certsDir ? { certsDir: registry.certsDir } : {}),
        });
        try {
          await assert.rejects(wrong.resolve(ref('team/app:1')), (err: Error) => {
            assert.ok(err instanceof UnauthorizedError, String(err));
            assert.match(err.message, /^unauthorized: /);
            assert.match(err.hint ?? '', new RegExp(`tcbuild login ${registry.host}`));
            return true;
          });
        } finally {
          await wrong.close();
        }
      });
    }
  });
}
