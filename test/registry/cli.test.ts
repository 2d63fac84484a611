import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ContentStore } from '../../src/content/store.js';
import { Registry, parseReference } from '../../src/registry/index.js';
import { loadCredentials } from '../../src/registry/docker-config.js';
import { nextLink } from '../../src/registry/listing.js';
import { tcbuild } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { buildTestImage } from './image-fixture.js';

describe('registry commands of the CLI (token auth registry)', () => {
  let registry: TestRegistry;
  let scratch: string;
  let env: NodeJS.ProcessEnv & { TCBUILD_ROOT: string };
  const cli = (args: string[], input?: string) => tcbuild(args, env, input);

  before(async () => {
    registry = await startRegistry({ auth: 'token' });
    scratch = await mkdtemp(join(tmpdir(), 'tcbuild-cli-registry-'));
    env = { TCBUILD_ROOT: join(scratch, 'root'), DOCKER_CONFIG: join(scratch, 'docker') };
  });
  after(async () => {
    await registry?.stop();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('logs in with --password-stdin, then lists, inspects, digests, deletes; logs out', async () => {
    const wrong = await cli(['login', '-u', registry.username!, '--password-stdin', registry.host], 'nope\n');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /^error: unauthorized: /);

    const ok = await cli(
      ['login', '-u', registry.username!, '--password-stdin', registry.host],
      `${registry.password}\n`,
    );
    assert.equal(ok.code, 0, ok.stderr);
    const configPath = join(scratch, 'docker', 'config.json');
    assert.equal((await stat(configPath)).mode & 0o777, 0o600);
    assert.deepEqual(await loadCredentials(registry.host, configPath), {
      username: registry.username,
      password: registry.password,
    });

    const client = new Registry({ authConfigPath: configPath });
    const image = await buildTestImage(new ContentStore(join(scratch, 'src')), { 'cli.txt': 'cli\n' });
    for (let i = 0; i < 3; i++)
      await client.push(parseReference(`${registry.host}/cli/app:t${i}`), { kind: 'image', image });
    await client.close();

    assert.equal((await cli(['ls-tags', `${registry.host}/cli/app`])).stdout, 't0\nt1\nt2\n');
    assert.equal((await cli(['digest', `${registry.host}/cli/app:t1`])).stdout, `${image.descriptor.digest}\n`);
    const inspected = JSON.parse((await cli(['inspect', '--remote', `${registry.host}/cli/app:t1`])).stdout) as {
      config: { architecture: string };
    };
    assert.equal(inspected.config.architecture, 'amd64');
    assert.deepEqual(
      (await cli(['inspect', '--remote', '--raw', `${registry.host}/cli/app:t1`])).stdout,
      (await image.rawManifest()).toString(),
    );
    const catalog = await cli(['catalog', registry.host]);
    assert.match(catalog.stdout, /^cli\/app$/m);
    const copied = await cli(['copy', `${registry.host}/cli/app:t1`, `${registry.host}/cli/app:retag`]);
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal(
      (await cli(['delete', `${registry.host}/cli/app:t2`])).stdout,
      `Deleted: ${image.descriptor.digest}\n`,
    );
    const gone = await cli(['digest', `${registry.host}/cli/app:t0`]);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /manifest unknown/);

    assert.equal((await cli(['logout', registry.host])).code, 0);
    assert.equal(await loadCredentials(registry.host, configPath), undefined);
  });
});

describe('credential helpers and Link pagination', () => {
  it('reads credHelpers and credsStore through docker-credential-* programs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tcbuild-credhelper-'));
    try {
      const helper = join(dir, 'docker-credential-fake');
      await writeFile(
        helper,
        '#!/bin/sh\nread server\ncase "$server" in\n  reg.example.com) echo \'{"ServerURL":"reg.example.com","Username":"helper-user","Secret":"s3cret"}\';;\n  *) echo "credentials not found in native keychain"; exit 1;;\nesac\n',
      );
      await chmod(helper, 0o755);
      const config = join(dir, 'config.json');
      await writeFile(
        config,
        JSON.stringify({
          credHelpers: { 'reg.example.com': 'fake' },
          credsStore: 'fake',
          auths: { 'inline.example.com': { auth: Buffer.from('a:b').toString('base64') } },
        }),
      );
      const path = process.env['PATH'];
      process.env['PATH'] = `${dir}:${path}`;
      try {
        assert.deepEqual(await loadCredentials('reg.example.com', config), {
          username: 'helper-user',
          password: 's3cret',
        });
        assert.deepEqual(await loadCredentials('inline.example.com', config), { username: 'a', password: 'b' });
        assert.equal(await loadCredentials('other.example.com', config), undefined);
      } finally {
        process.env['PATH'] = path;
      }
      await writeFile(config, JSON.stringify({ credsStore: 'missing-helper' }));
      await assert.rejects(
        loadCredentials('x.example.com', config),
        /docker-credential-missing-helper: not found in PATH/,
      );
      assert.match(await readFile(helper, 'utf8'), /helper-user/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('follows rel="next" Link headers', () => {
    assert.equal(nextLink('</v2/app/tags/list?n=2&last=b>; rel="next"'), '/v2/app/tags/list?n=2&last=b');
    assert.equal(nextLink('<https://x/a>; rel="prev", <https://x/b>; rel=next'), 'https://x/b');
    assert.equal(nextLink(undefined), undefined);
  });
});
