import assert from 'node:assert/strict';
import { readFile, stat, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, run, tcbuild, tempRoot } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { registryConfig, unpackFromRegistry } from '../helpers/unpack.js';

const SDE = '1700000000';

describe('the first whole build: Dockerfile → sandboxed RUN → layers → registry', { skip: NEEDS_ROOT }, () => {
  let registry: TestRegistry;
  let root: string;
  let work: string;
  let base: string;
  let built: { code: number | null; stdout: string; stderr: string };
  const demo = () => `${registry.host}/demo:1`;

  before(async () => {
    registry = await startRegistry();
    base = await pushFixture(`${registry.host}/busybox:latest`);
    root = await tempRoot();
    work = await mkdtemp(join(tmpdir(), 'tcbuild-e2e-'));
    built = await tcbuild(
      [
        'build',
        '-t',
        demo(),
        '--push',
        '--iidfile',
        join(work, 'iid'),
        '--build-arg',
        `BASE=${base}`,
        '--progress',
        'plain',
        'fixtures/hello',
      ],
      { TCBUILD_ROOT: root, SOURCE_DATE_EPOCH: SDE },
    );
  });

  after(async () => {
    await registry?.stop();
    await rm(root, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it("the build's progress names the base blobs it pulled and every blob it pushed", async () => {
    assert.equal(built.code, 0, built.stderr);
    const inspect = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${demo()}`]);
    const info = JSON.parse(inspect.stdout) as { Layers: string[] };
    const repo = demo().replace(/:[^:/]+$/, '');
    const pushed = [...built.stderr.matchAll(/^pushed (sha256:[0-9a-f]{64}) \(.+\) to (.+)$/gm)];
    const mounted = [...built.stderr.matchAll(/^mounted (sha256:[0-9a-f]{64}) into (.+) from another repository$/gm)];
    for (const layer of info.Layers) {
      assert.ok(
        [...pushed, ...mounted].some((m) => m[1] === layer && m[2] === repo),
        `${layer} in:\n${built.stderr}`,
      );
    }
    assert.match(built.stderr, /^pulled sha256:[0-9a-f]{64} \(.+\) from .+\/busybox(:latest)?$/m);
    assert.match(built.stderr, new RegExp(`^manifest sha256:[0-9a-f]{64} of ${repo.replace(/[.]/g, '\\.')}$`, 'm'));
  });

  it('builds and pushes, and skopeo reads the pushed image back with the digest tcbuild reported', async () => {
    assert.equal(built.code, 0, built.stderr);
    const iid = (await readFile(join(work, 'iid'), 'utf8')).trim();
    const inspect = await run('skopeo', ['inspect', '--tls-verify=false', `docker://${demo()}`]);
    assert.equal(inspect.code, 0, inspect.stderr);
    const info = JSON.parse(inspect.stdout) as {
      Digest: string;
      Architecture: string;
      Os: string;
      Labels: Record<string, string>;
      Layers: string[];
    };
    assert.equal(info.Digest, iid);
    assert.equal(info.Os, 'linux');
    assert.equal(info.Architecture, 'amd64');
    assert.equal(info.Labels['org.opencontainers.image.title'], 'tcbuild demo');
    assert.equal(info.Labels['org.example.greeting'], 'hello');
  });

  it('writes the image config as BuildKit does: Env, Entrypoint/Cmd, WorkingDir, User, ports, labels, history', async () => {
    const config = await registryConfig<{
      created: string;
      config: {
        Env: string[];
        Entrypoint: string[];
        Cmd: string[];
        WorkingDir: string;
        User: string;
        ExposedPorts: Record<string, object>;
        Labels: Record<string, string>;
      };
      rootfs: { diff_ids: string[] };
      history: { created_by: string; empty_layer?: boolean; comment?: string }[];
    }>(demo());
    assert.equal(config.created, '2023-11-14T22:13:20Z');
    assert.deepEqual(config.config.Env, [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'APP_HOME=/app',
      'GREETING=hello',
    ]);
    assert.deepEqual(config.config.Entrypoint, ['/app/hello.sh']);
    assert.deepEqual(config.config.Cmd, ['world']);
    assert.equal(config.config.WorkingDir, '/app');
    assert.equal(config.config.User, 'app');
    assert.deepEqual(config.config.ExposedPorts, { '8080/tcp': {} });
    const ours = config.history.slice(1);
    assert.deepEqual(
      ours.map((h) => [h.created_by, h.empty_layer === true]),
      [
        ['ARG GREETING=hello', true],
        ['ENV APP_HOME=/app GREETING=hello', true],
        ['WORKDIR /app', false],
        ['COPY --chown=1000:1000 hello.sh ./ # buildkit', false],
        ['COPY data/ ./data/ # buildkit', false],
        [
          `RUN |1 GREETING=hello /bin/sh -c echo 'app:x:1000:1000:app:/app:/bin/sh' >> /etc/passwd && echo 'app:x:1000:' >> /etc/group  && echo "built on $(uname -m)" > /app/built.txt  && chown app:app /app/built.txt && chmod 0640 /app/built.txt # buildkit`,
          false,
        ],
        ['USER app', true],
        ['EXPOSE map[8080/tcp:{}]', true],
        ['LABEL org.opencontainers.image.title=tcbuild demo org.example.greeting=hello', true],
        ['ENTRYPOINT ["/app/hello.sh"]', true],
        ['CMD ["world"]', true],
      ],
    );
    assert.ok(ours.every((h) => h.comment === 'buildkit.dockerfile.v0'));
    assert.equal(config.rootfs.diff_ids.length, config.history.filter((h) => !h.empty_layer).length);
  });

  it('unpacks with umoci to the COPYed and RUN-made files, with their owners and modes, and runc runs it', async () => {
    const { bundle, rootfs } = await unpackFromRegistry(demo(), work);
    const script = await stat(join(rootfs, 'app/hello.sh'));
    assert.deepEqual([script.uid, script.gid, script.mode & 0o7777], [1000, 1000, 0o755]);
    const builtTxt = await stat(join(rootfs, 'app/built.txt'));
    assert.deepEqual([builtTxt.uid, builtTxt.gid, builtTxt.mode & 0o7777], [1000, 1000, 0o640]);
    assert.equal(await readFile(join(rootfs, 'app/built.txt'), 'utf8'), 'built on x86_64\n');
    const message = await stat(join(rootfs, 'app/data/message.txt'));
    assert.deepEqual([message.uid, message.gid, message.mode & 0o7777], [0, 0, 0o644]);
    assert.match(await readFile(join(rootfs, 'etc/passwd'), 'utf8'), /^app:x:1000:1000:/m);
    for (const mountTarget of ['etc/hosts', 'etc/resolv.conf', 'etc/hostname']) {
      await assert.rejects(
        stat(join(rootfs, mountTarget)),
        `the sandbox's ${mountTarget} mount point must not end up in a layer`,
      );
    }

    const specPath = join(bundle, 'config.json');
    const spec = JSON.parse(await readFile(specPath, 'utf8')) as { process: { terminal: boolean; args: string[] } };
    spec.process.terminal = false;
    await writeFile(specPath, JSON.stringify(spec));
    const runc = await run('runc', ['run', '--bundle', bundle, `tcbuild-e2e-${process.pid}`]);
    assert.equal(runc.code, 0, runc.stderr);
    assert.equal(runc.stdout.trim(), 'hello, world! (built on x86_64; data: greetings from the build context)');
  });

  it('gives the same image digest when built again from scratch (deterministic under SOURCE_DATE_EPOCH)', async () => {
    const otherRoot = await tempRoot();
    try {
      const again = await tcbuild(['build', '-q', '--build-arg', `BASE=${base}`, 'fixtures/hello'], {
        TCBUILD_ROOT: otherRoot,
        SOURCE_DATE_EPOCH: SDE,
      });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(again.stdout.trim(), (await readFile(join(work, 'iid'), 'utf8')).trim());
    } finally {
      await rm(otherRoot, { recursive: true, force: true });
    }
  });

  it('reuses the cache on a rebuild', async () => {
    const again = await tcbuild(['build', '--progress', 'plain', '--build-arg', `BASE=${base}`, 'fixtures/hello'], {
      TCBUILD_ROOT: root,
      SOURCE_DATE_EPOCH: SDE,
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stderr.match(/CACHED/g) ?? []).length, 4, again.stderr);
  });
});
