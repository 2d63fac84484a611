import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { NEEDS_ROOT, tcbuild } from '../helpers/cli.js';
import { buildToDir, buildWorkspace } from '../helpers/context.js';

describe('contexts, RUN --mount and build errors through bin/tcbuild', { skip: NEEDS_ROOT }, () => {
  const workspace = buildWorkspace();
  const context = workspace.context;

  it('builds a tarball context, from a file and from stdin, and a Dockerfile alone on stdin', async () => {
    const ctx = await context({ Dockerfile: 'FROM busybox\nCOPY hello.txt /\n', 'hello.txt': 'from the tarball\n' });
    execFileSync('tar', ['-czf', `${ctx}.tar.gz`, '-C', ctx, '.']);
    workspace.remove(`${ctx}.tar.gz`);
    const fromFile = await buildToDir(workspace.root(), `${ctx}.tar.gz`);
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(await readFile(join(fromFile.out, 'hello.txt'), 'utf8'), 'from the tarball\n');

    const out = `${ctx}.stdin`;
    workspace.remove(out);
    const tar = execFileSync('tar', ['-cf', '-', '-C', ctx, '.']).toString('latin1');
    const stdinTar = await tcbuild(
      ['build', '-o', `type=local,dest=${out}`, '-'],
      { TCBUILD_ROOT: workspace.root() },
      tar,
    );
    assert.equal(stdinTar.code, 0, stdinTar.stderr);
    assert.equal(await readFile(join(out, 'hello.txt'), 'utf8'), 'from the tarball\n');

    const stdinDockerfile = await tcbuild(
      ['build', '-o', `type=local,dest=${out}-2`, '-'],
      { TCBUILD_ROOT: workspace.root() },
      'FROM busybox\nRUN echo alone > /alone.txt\n',
    );
    workspace.remove(`${out}-2`);
    assert.equal(stdinDockerfile.code, 0, stdinDockerfile.stderr);
    assert.equal(await readFile(join(`${out}-2`, 'alone.txt'), 'utf8'), 'alone\n');
  });

  it('uses --build-context NAME=DIR and NAME=docker-image://REF in FROM, COPY --from and RUN --mount from=', async () => {
    const extra = await context({ 'lib/extra.txt': 'extra context\n' });
    const ctx = await context({
      Dockerfile: [
        'FROM base AS b',
        'RUN echo on-named-image > /marker',
        'FROM files AS f',
        'FROM busybox',
        'COPY --from=extra lib/extra.txt /copied.txt',
        'COPY --from=b /marker /marker',
        'COPY --from=f /lib/extra.txt /from-stage.txt',
        'RUN --mount=from=extra,target=/mnt cat /mnt/lib/extra.txt > /mounted.txt',
        '',
      ].join('\n'),
    });
    const r = await buildToDir(workspace.root(), ctx, [
      '--build-context',
      `extra=${extra}`,
      '--build-context',
      `files=${extra}`,
      '--build-context',
      'base=docker-image://busybox:latest',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(r.out, 'copied.txt'), 'utf8'), 'extra context\n');
    assert.equal(await readFile(join(r.out, 'marker'), 'utf8'), 'on-named-image\n');
    assert.equal(await readFile(join(r.out, 'from-stage.txt'), 'utf8'), 'extra context\n');
    assert.equal(await readFile(join(r.out, 'mounted.txt'), 'utf8'), 'extra context\n');
  });

  it('mounts caches that persist across builds (with mode/uid/gid), binds (rw discarded), tmpfs, and keeps mount points out of the layer', async () => {
    const ctx = await context({
      Dockerfile: [
        'FROM busybox AS tools',
        'RUN mkdir /tools && echo tool > /tools/t.txt',
        'FROM busybox',
        'ARG BUILD_NUMBER',
        'RUN --mount=type=cache,target=/var/cache/app,id=app-cache,mode=0700,uid=1,gid=1 echo run >> /var/cache/app/runs && cat /var/cache/app/runs | wc -l > /runs.txt && stat -c "%a %u %g" /var/cache/app > /cache-meta.txt',
        'RUN --mount=type=bind,source=data,target=/data,rw echo scribble > /data/new.txt && cat /data/in.txt > /bound.txt',
        'RUN --mount=type=bind,from=tools,source=/tools,target=/opt/t cat /opt/t/t.txt > /from-tools.txt',
        'RUN --mount=type=tmpfs,target=/scratch,size=1m grep -q " /scratch tmpfs" /proc/mounts && echo tmpfs > /tmpfs.txt',
        '',
      ].join('\n'),
      'data/in.txt': 'bound in\n',
    });
    const first = await buildToDir(workspace.root(), ctx);
    assert.equal(first.code, 0, first.stderr);
    assert.equal((await readFile(join(first.out, 'runs.txt'), 'utf8')).trim(), '1');
    assert.equal(await readFile(join(first.out, 'cache-meta.txt'), 'utf8'), '700 1 1\n');
    assert.equal(await readFile(join(first.out, 'bound.txt'), 'utf8'), 'bound in\n');
    assert.ok(!existsSync(join(ctx, 'data/new.txt')), 'a rw bind mount never writes back to the context');
    assert.equal(await readFile(join(first.out, 'from-tools.txt'), 'utf8'), 'tool\n');
    assert.equal(await readFile(join(first.out, 'tmpfs.txt'), 'utf8'), 'tmpfs\n');
    for (const p of ['var/cache/app', 'data', 'opt/t', 'scratch'])
      assert.ok(!existsSync(join(first.out, p)), `${p} is not in the image`);

    const second = await buildToDir(workspace.root(), ctx, ['--build-arg', 'BUILD_NUMBER=2']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(
      (await readFile(join(second.out, 'runs.txt'), 'utf8')).trim(),
      '2',
      'the cache mount kept the first run',
    );
  });

  it('mounts secrets from files and env (never in the layer, history or cache key) and forwards an ssh agent socket', async () => {
    const secretFile = join(workspace.root(), 'token.txt');
    await writeFile(secretFile, 's3cr3t-file');
    const socketPath = join(workspace.root(), 'agent.sock');
    const agent: Server = createServer((sock) => sock.end('agent-says-hi\n'));
    await new Promise<void>((resolve) => agent.listen(socketPath, resolve));
    try {
      const ctx = await context({
        Dockerfile: [
          'FROM busybox',
          'RUN --mount=type=secret,id=token cat /run/secrets/token > /token-copy && stat -c "%a" /run/secrets/token > /token-mode',
          'RUN --mount=type=secret,id=envsecret,env=FROM_ENV,target=/tmp/s echo "$FROM_ENV" > /env-copy',
          'RUN --mount=type=secret,id=absent true',
          'RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo socket > /agent.txt && echo "$SSH_AUTH_SOCK" > /sock-path',
          '',
        ].join('\n'),
      });
      process.env['MY_SECRET'] = 'env-secret-value';
      const r = await buildToDir(workspace.root(), ctx, [
        '--secret',
        `id=token,src=${secretFile}`,
        '--secret',
        'id=envsecret,env=MY_SECRET',
        '--ssh',
        `default=${socketPath}`,
        '-t',
        'secrets:1',
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await readFile(join(r.out, 'token-copy'), 'utf8'), 's3cr3t-file');
      assert.equal(await readFile(join(r.out, 'token-mode'), 'utf8'), '400\n');
      assert.equal(await readFile(join(r.out, 'env-copy'), 'utf8'), 'env-secret-value\n');
      assert.equal(await readFile(join(r.out, 'agent.txt'), 'utf8'), 'socket\n');
      assert.equal(await readFile(join(r.out, 'sock-path'), 'utf8'), '/run/buildkit/ssh_agent.0\n');
      for (const p of ['run/secrets', 'run/buildkit', 'tmp/s'])
        assert.ok(!existsSync(join(r.out, p)), `${p} is not in the image`);
      const inspect = await tcbuild(['inspect', 'secrets:1'], { TCBUILD_ROOT: workspace.root() });
      assert.doesNotMatch(inspect.stdout, /s3cr3t/);
      // Each blob on its own (cat'ed together, gzip -dcf stops at the first one that is not gzip).
      const blobDir = join(workspace.root(), 'blobs/sha256');
      const contents = (name: string) =>
        execFileSync('sh', ['-c', `gzip -dcf ${join(blobDir, name)} 2>/dev/null || true`], { maxBuffer: 1 << 28 });
      const holding = readdirSync(blobDir).filter((name) => contents(name).includes('s3cr3t-file'));
      assert.ok(holding.length > 0, 'the layer the RUN copied the secret into holds it');
      for (const name of holding) {
        const entries = execFileSync('sh', [
          '-c',
          `gzip -dcf ${join(blobDir, name)} | tar -t 2>/dev/null || true`,
        ]).toString();
        assert.match(entries, /^token-copy$/m, `blob ${name} holds the secret but is not the layer of /token-copy`);
      }

      await writeFile(secretFile, 'rotated');
      const again = await buildToDir(workspace.root(), ctx, [
        '--secret',
        `id=token,src=${secretFile}`,
        '--secret',
        'id=envsecret,env=MY_SECRET',
        '--ssh',
        `default=${socketPath}`,
      ]);
      assert.equal(again.code, 0, again.stderr);
      assert.equal(
        readFileSync(join(again.out, 'token-copy'), 'utf8'),
        's3cr3t-file',
        'a new secret value does not invalidate the step',
      );
    } finally {
      agent.close();
    }
  });

  describe('errors name the file and line', () => {
    const fails = async (dockerfile: string, pattern: RegExp, args: string[] = []) => {
      const ctx = await context({ Dockerfile: dockerfile });
      const r = await buildToDir(workspace.root(), ctx, args);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, pattern);
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    };

    it('an unknown stage in --from', () =>
      fails(
        'FROM busybox\nCOPY --from=nowhere /a /b\n',
        /Dockerfile:2: COPY --from=nowhere: no stage, build context or image of that name/,
      ));
    it('a cycle between stages', () =>
      fails(
        'FROM busybox AS a\nCOPY --from=b /x /x\nFROM busybox AS b\nCOPY --from=a /y /y\n',
        /Dockerfile:\d: circular dependency detected on stage: (a|b)/,
      ));
    it('an undefined ${V:?msg}', () =>
      fails('FROM busybox\nARG V\nRUN echo ${V:?V must be set}\n', /Dockerfile:3: .*V must be set/));
    it('bad mount options', () =>
      fails(
        'FROM busybox\nRUN --mount=type=cache,target=/c,sharing=sometimes true\n',
        /Dockerfile:2: invalid --mount=.*unsupported sharing value "sometimes"/,
      ));
    it('an unknown mount key', () =>
      fails(
        'FROM busybox\nRUN --mount=type=bind,target=/c,colour=red true\n',
        /Dockerfile:2: invalid --mount=.*unexpected key 'colour'/,
      ));
    it('a missing required secret', () =>
      fails(
        'FROM busybox\nRUN --mount=type=secret,id=api,required=true true\n',
        /Dockerfile:2: .*secret api: not found/,
      ));
  });

  it('files in the context are never writable through a rw bind of a stage', async () => {
    const ctx = await context({
      Dockerfile: 'FROM busybox\nRUN --mount=type=bind,target=/ctx,rw rm -f /ctx/Dockerfile\n',
    });
    const r = await buildToDir(workspace.root(), ctx);
    assert.equal(r.code, 0, r.stderr);
    assert.ok((await stat(join(ctx, 'Dockerfile'))).isFile());
  });
});
