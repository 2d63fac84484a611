import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContentStore } from '../../src/content/store.js';
import { Registry, UnauthorizedError, parseReference } from '../../src/registry/index.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildTestImage } from './image-fixture.js';

describe('registry with htpasswd auth', () => {
  let registry: TestRegistry;
  let scratch: string;

  before(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
    scratch = await mkdtemp(join(tmpdir(), 'tcbuild-registry-auth-'));
  });
  after(async () => {
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('pushes and resolves with the credentials of the docker config', async () => {
    const config = join(scratch, 'config.json');
    await writeFile(
      config,
      JSON.stringify({ auths: { [registry.host]: { username: registry.username, password: registry.password } } }),
    );
    const client = new Registry({ authConfigPath: config });
    try {
      const image = await buildTestImage(new ContentStore(join(scratch, 'store')), { 'secret.txt': 'ok\n' });
      const ref = parseReference(`${registry.host}/private/app:1`);
      await client.push(ref, { kind: 'image', image });
      assert.deepEqual(await client.resolve(ref), image.descriptor);
    } finally {
      await client.close();
    }
  });

  it('tells an anonymous or wrong user to log in', async () => {
    const wrong = join(scratch, 'wrong.json');
    await writeFile(
      wrong,
      JSON.stringify({
        auths: {
          [`https://${registry.host}/v2/`]: { auth: Buffer.from(`${registry.username}:nope`).toString('base64') },
        },
      }),
    );
    for (const authConfigPath of [join(scratch, 'absent.json'), wrong]) {
      const client = new Registry({ authConfigPath });
      try {
        await assert.rejects(client.resolve(parseReference(`${registry.host}/private/app:1`)), (err: Error) => {
          assert.ok(err instanceof UnauthorizedError, String(err));
          assert.match(
            err.message,
            new RegExp(`^unauthorized: ${registry.host} refused access to ${registry.host}/private/app:1`),
          );
          assert.equal(err.hint, `log in with tcbuild login ${registry.host}`);
          return true;
        });
      } finally {
        await client.close();
      }
    }
  });
});
