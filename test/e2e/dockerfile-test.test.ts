import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, tcbuild, tempRoot } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { registryConfig, unpackFromRegistry } from '../helpers/unpack.js';

interface Config {
  author?: string;
  config: {
    Env: string[];
    Entrypoint: string[];
    Cmd: string[];
    WorkingDir: string;
    User: string;
    ExposedPorts: Record<string, object>;
    Labels: Record<string, string>;
    Volumes: Record<string, object>;
    StopSignal: string;
    Shell: string[];
    OnBuild?: string[] | null;
    Healthcheck: { Test: string[]; Interval: number; Timeout: number; Retries: number };
  };
}

describe('Dockerfile.test: every supported instruction, built and checked from the registry', {
  skip: NEEDS_ROOT,
}, () => {
  let registry: TestRegistry;
  let root: string;
  let work: string;
  let rootfs: string;
  let config: Config;

  before(async () => {
    registry = await startRegistry();
    const base = await pushFixture(`${registry.host}/busybox:latest`);
    root = await tempRoot();
    work = await mkdtemp(join(tmpdir(), 'tcbuild-e2e-'));
    const image = `${registry.host}/dockerfile-test:1`;
    const built = await tcbuild(
      [
        'build',
        '-f',
        'Dockerfile.test',
        '-t',
        image,
        '--push',
        '--build-arg',
        `BASE=${base}`,
        '--build-arg',
        'FLAVOR=spicy',
        'fixtures/hello',
      ],
      { TCBUILD_ROOT: root },
    );
    assert.equal(built.code, 0, built.stderr);
    ({ rootfs } = await unpackFromRegistry(image, work));
    config = await registryConfig<Config>(image);
  });

  after(async () => {
    await registry?.stop();
    await rm(root, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  const file = (path: string) => readFile(join(rootfs, path), 'utf8');

  it('runs RUN steps with ENV, ARG, SHELL, WORKDIR, USER and --network=none in effect', async () => {
    assert.equal(await file('env.txt'), '1|two words|spicy|legacy form value\n');
    assert.equal(await file('uid-at-build.txt'), '0\n');
    assert.equal(await file('heredoc-run.txt'), 'heredoc run in /work/sub\n');
    assert.equal(await file('netdevs.txt'), 'lo:\n');
    assert.match(await file('tmp/id.txt'), /^uid=1\(daemon\) gid=1\(daemon\)/);
  });

  it('copies from stages (with ONBUILD triggers run), the context, and heredocs, with --chmod and --chown', async () => {
    assert.equal(await file('opt/from-stage/version'), 'tool v1\n');
    assert.equal(await file('opt/onbuild.txt'), 'onbuild trigger ran\n');
    assert.equal(await file('etc/heredoc.conf'), 'flavor=spicy\n');
    const secret = await stat(join(rootfs, 'work/sub/secret.txt'));
    assert.equal(secret.mode & 0o7777, 0o600);
    assert.equal(await file('work/sub/secret.txt'), 'greetings from the build context\n');
    const owned = await stat(join(rootfs, 'owned/message.txt'));
    assert.deepEqual([owned.uid, owned.gid], [1, 1]);
  });

  it('copies with --parents, symbolic --chmod, --link and --exclude, and runs RUN --mount cache, bind, tmpfs and optional secret', async () => {
    assert.equal(await file('parents/data/message.txt'), 'greetings from the build context\n');
    assert.equal((await stat(join(rootfs, 'parents/data/message.txt'))).mode & 0o777, 0o744);
    assert.equal(await file('linked/data/message.txt'), 'greetings from the build context\n');
    await assert.rejects(stat(join(rootfs, 'linked/hello.sh')), /ENOENT/);
    assert.equal(await file('added/message.txt'), 'greetings from the build context\n');
    assert.equal(await file('cache-used.txt'), 'cached\n');
    assert.equal(await file('bound.txt'), 'greetings from the build context\n');
    assert.equal(await file('secret-optional.txt'), 'optional secret skipped\n');
    for (const gone of ['var/cache/t', 'mnt/data', 'scratch', 'run/secrets'])
      await assert.rejects(stat(join(rootfs, gone)), /ENOENT/, `${gone} is not in the image`);
  });

  it('writes the config of every metadata instruction', () => {
    const c = config.config;
    assert.equal(config.author, 'tcbuild tests');
    assert.deepEqual(c.Env.slice(1), ['A=1', 'B=two words', 'C=spicy', 'LEGACY=legacy form value']);
    assert.deepEqual(c.Labels, { 'com.example.flavor': 'spicy', 'com.example.quoted': 'a b' });
    assert.equal(c.WorkingDir, '/work/sub');
    assert.equal(c.User, 'root');
    assert.deepEqual(c.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.deepEqual(c.Volumes, { '/data': {} });
    assert.equal(c.StopSignal, 'SIGQUIT');
    assert.deepEqual(c.Shell, ['/bin/sh', '-e', '-c']);
    assert.deepEqual(c.Healthcheck, {
      Test: ['CMD-SHELL', 'test -f /env.txt'],
      Interval: 30e9,
      Timeout: 5e9,
      Retries: 2,
    });
    assert.deepEqual(c.Entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(c.Cmd, ['cat /env.txt']);
    assert.ok(!c.OnBuild || c.OnBuild.length === 0);
  });
});
