import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, tcbuild, tempRoot, type RunResult } from '../helpers/cli.js';
import { buildWorkspace, ranLines } from '../helpers/context.js';
import { startGitServer, type GitServer } from '../helpers/git-server.js';

const V1_TIME = 1700000000;

describe('git sources from a loopback git daemon and git http-backend', { skip: NEEDS_ROOT }, () => {
  const workspace = buildWorkspace();
  let server: GitServer;
  let first = '';
  let second = '';
  const tree = (hello: string) => ({
    'app/Dockerfile': 'FROM busybox\nCOPY . /src\n',
    'app/hello.txt': hello,
    'tool.sh': { content: '#!/bin/sh\necho tool\n', mode: 0o755 },
    link: { symlink: 'app/hello.txt' },
  });

  before(async () => {
    server = await startGitServer();
    first = await server.commit(tree('hello from v1\n'), { time: V1_TIME });
    server.tag('v1', first, 'release 1');
    second = await server.commit(tree('hello from v2\n'), { time: V1_TIME + 3600 });
    await server.commit(tree('hello from feature\n'), { branch: 'feature' });
  });
  after(() => server.close());

  /** bin/tcbuild build of `context` (a path or a git URL) with plain progress, its filesystem exported. */
  const build = async (context: string, args: string[] = []): Promise<RunResult & { out: string }> => {
    const out = await mkdtemp(join(tmpdir(), 'tcbuild-git-out-'));
    workspace.remove(out);
    await rm(out, { recursive: true });
    const r = await tcbuild(['build', '--progress', 'plain', '-o', `type=local,dest=${out}`, ...args, context], {
      TCBUILD_ROOT: workspace.root(),
    });
    return { ...r, out };
  };

  it('builds a git context by branch, annotated tag, commit and query, the Dockerfile read from the subdir', async () => {
    const cases: [string, string][] = [
      [`${server.gitUrl}#main:app`, 'hello from v2\n'],
      [`${server.httpUrl}#v1:app`, 'hello from v1\n'],
      [`${server.gitUrl}#${first}:app`, 'hello from v1\n'],
      [`${server.httpUrl}?branch=feature&subdir=app`, 'hello from feature\n'],
    ];
    for (const [context, hello] of cases) {
      const r = await build(context);
      assert.equal(r.code, 0, `${context}: ${r.stderr}`);
      assert.equal(await readFile(join(r.out, 'src/hello.txt'), 'utf8'), hello, context);
      assert.deepEqual(
        [
          existsSync(join(r.out, 'src/Dockerfile')),
          existsSync(join(r.out, 'src/tool.sh')),
          existsSync(join(r.out, 'src/.git')),
        ],
        [true, false, false],
        `${context}: the context is the subdir, without .git`,
      );
      assert.match(
        r.stderr,
        /\[Dockerfile:2\] COPY \. \/src/,
        'the Dockerfile is named as in the repository, not by a temporary path',
      );
    }
  });

  it('keeps .git in a git context with BUILDKIT_CONTEXT_KEEP_GIT_DIR=1, the Dockerfile given with -f', async () => {
    const dockerfile = await workspace.context({ Dockerfile: 'FROM busybox\nCOPY . /src\n' });
    const kept = await build(`${server.gitUrl}#v1`, [
      '-f',
      join(dockerfile, 'Dockerfile'),
      '--build-arg',
      'BUILDKIT_CONTEXT_KEEP_GIT_DIR=1',
    ]);
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal((await readFile(join(kept.out, 'src/.git/HEAD'), 'utf8')).trim(), first);
    assert.equal(await readFile(join(kept.out, 'src/app/hello.txt'), 'utf8'), 'hello from v1\n');
  });

  it('ADDs a repository by commit, tag and branch: modes, symlinks and commit times as git has them, .git only with --keep-git-dir', async () => {
    const ctx = await workspace.context({
      Dockerfile: [
        'FROM busybox',
        `ADD ${server.gitUrl}#${first} /by-commit`,
        `ADD ${server.httpUrl}#v1 /by-tag/`,
        `ADD ${server.gitUrl}#feature:app /by-branch`,
        `ADD --keep-git-dir=true ${server.httpUrl}#main /kept`,
        'RUN stat -c "%u:%g %a" /by-commit/tool.sh > /owner.txt',
        '',
      ].join('\n'),
    });
    const r = await build(ctx);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(r.out, 'by-commit/app/hello.txt'), 'utf8'), 'hello from v1\n');
    assert.equal(await readFile(join(r.out, 'owner.txt'), 'utf8'), '0:0 755\n', 'root-owned, the executable bit kept');
    assert.equal(await readlink(join(r.out, 'by-commit/link')), 'app/hello.txt');
    assert.equal(
      (await lstat(join(r.out, 'by-commit/app/hello.txt'))).mtimeMs,
      V1_TIME * 1000,
      'files carry the commit time',
    );
    assert.equal(existsSync(join(r.out, 'by-commit/.git')), false, 'no .git without --keep-git-dir');
    assert.equal(await readFile(join(r.out, 'by-tag/app/hello.txt'), 'utf8'), 'hello from v1\n');
    assert.equal(
      await readFile(join(r.out, 'by-branch/hello.txt'), 'utf8'),
      'hello from feature\n',
      'the subdir is what is added',
    );
    assert.equal(existsSync(join(r.out, 'by-branch/tool.sh')), false);
    assert.equal(await readFile(join(r.out, 'kept/app/hello.txt'), 'utf8'), 'hello from v2\n');
    assert.equal(
      (await readFile(join(r.out, 'kept/.git/HEAD'), 'utf8')).trim(),
      second,
      '--keep-git-dir: HEAD at the commit',
    );
    assert.equal(
      (await readFile(join(r.out, 'kept/.git/config'), 'utf8')).includes(server.httpUrl),
      true,
      'origin is the remote',
    );
  });

  it('takes --build-context NAME=GIT-URL in FROM and COPY --from', async () => {
    const ctx = await workspace.context({
      Dockerfile: [
        'FROM src AS files',
        'FROM busybox',
        'COPY --from=src hello.txt /named.txt',
        'COPY --from=files /Dockerfile /from-stage',
        '',
      ].join('\n'),
    });
    const r = await build(ctx, ['--build-context', `src=${server.gitUrl}#v1:app`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(r.out, 'named.txt'), 'utf8'), 'hello from v1\n');
    assert.equal(await readFile(join(r.out, 'from-stage'), 'utf8'), 'FROM busybox\nCOPY . /src\n');
  });

  it('a second build of the same commit is cached with the same image id; a new commit is a miss', async () => {
    const files = (value: string) => ({ Dockerfile: 'FROM busybox\nCOPY value.txt /value.txt\n', 'value.txt': value });
    await server.commit(files('one\n'), { branch: 'cached' });
    const ctx = await workspace.context({
      Dockerfile: ['FROM busybox', `ADD ${server.httpUrl}#cached /r`, 'RUN cat /r/value.txt > /seen.txt', ''].join(
        '\n',
      ),
    });
    const builds = { add: ctx, context: `${server.gitUrl}#cached` };
    const run = async (context: string) => {
      const out = await mkdtemp(join(tmpdir(), 'tcbuild-git-iid-'));
      workspace.remove(out);
      const r = await build(context, ['--iidfile', join(out, 'iid')]);
      assert.equal(r.code, 0, r.stderr);
      return { ...r, id: await readFile(join(out, 'iid'), 'utf8') };
    };
    for (const [what, context] of Object.entries(builds)) {
      const cold = await run(context);
      const warm = await run(context);
      assert.deepEqual(ranLines(warm.stderr), [], `${what}: every step CACHED the second time\n${warm.stderr}`);
      assert.match(warm.stderr, /CACHED/);
      assert.equal(warm.id, cold.id, `${what}: the same image id`);
    }
    await server.commit(files('two\n'), { branch: 'cached' });
    const add = await run(builds.add);
    assert.deepEqual(ranLines(add.stderr), [2, 3], `the ADD and what follows run again\n${add.stderr}`);
    assert.equal(await readFile(join(add.out, 'seen.txt'), 'utf8'), 'two\n');
    const context = await run(builds.context);
    assert.deepEqual(ranLines(context.stderr), [2], `the COPY from the new commit runs again\n${context.stderr}`);
    assert.equal(await readFile(join(context.out, 'value.txt'), 'utf8'), 'two\n');
  });

  it('checks out submodules (not with ?submodules=false) and refuses a file:// one the repository names', async () => {
    const lib = server.repository('lib');
    const libCommit = await lib.commit({ 'lib.txt': 'from the submodule\n' });
    const vendored = (url: string) => ({ submodules: { 'vendor/lib': { url, commit: libCommit } } });
    await server.commit({ 'main.txt': 'main\n' }, { branch: 'with-submodule', ...vendored(lib.gitUrl) });
    const ctx = await workspace.context({
      Dockerfile: [
        'FROM busybox',
        `ADD ${server.gitUrl}#with-submodule /m`,
        `ADD ${server.httpUrl}?branch=with-submodule&submodules=false /bare`,
        '',
      ].join('\n'),
    });
    const r = await build(ctx);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(r.out, 'm/vendor/lib/lib.txt'), 'utf8'), 'from the submodule\n');
    assert.deepEqual(await readdir(join(r.out, 'bare/vendor/lib')), []);

    await server.commit({ 'main.txt': 'main\n' }, { branch: 'file-submodule', ...vendored(`file://${lib.work}`) });
    const hostile = await workspace.context({ Dockerfile: `FROM busybox\nADD ${server.gitUrl}#file-submodule /m\n` });
    const refused = await build(hostile);
    assert.equal(refused.code, 1, 'a repository cannot make the host read its own files');
    assert.match(refused.stderr, /Dockerfile:2: .*submodules.*transport 'file' not allowed/s);
  });

  it('fetches git@HOST:PATH and ssh:// URLs through the ssh command, with the --ssh default agent socket', async () => {
    const ctx = await workspace.context({
      Dockerfile: 'FROM busybox\nADD git@127.0.0.1:repo.git#v1 /scp\nADD ssh://git@127.0.0.1/repo.git#main:app /url\n',
    });
    const agent = join(ctx, 'agent.sock');
    // A socket where the agent would be (tcbuild checks it is one); the fake ssh command only names it.
    const agentServer = createServer().listen(agent).unref();
    await once(agentServer, 'listening');
    const ssh = { GIT_SSH_COMMAND: server.sshCommand, GIT_SSH_VARIANT: 'simple' };
    const out = await mkdtemp(join(tmpdir(), 'tcbuild-git-ssh-'));
    workspace.remove(out);
    const r = await tcbuild(['build', '--ssh', `default=${agent}`, '-o', `type=local,dest=${out}`, ctx], {
      TCBUILD_ROOT: workspace.root(),
      ...ssh,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(out, 'scp/app/hello.txt'), 'utf8'), 'hello from v1\n');
    assert.equal(await readFile(join(out, 'url/hello.txt'), 'utf8'), 'hello from v2\n');
    const agents = new Set((await readFile(server.sshLog, 'utf8')).trim().split('\n'));
    assert.deepEqual([...agents], [`agent=${agent}`], 'every ssh connection had the agent socket');
  });

  it("authenticates http with a GIT_AUTH_TOKEN secret or the user's credential helper, and fails without (never prompts)", async () => {
    const token = 's3cret';
    server.requireAuthorization(`Basic ${Buffer.from(`x-access-token:${token}`).toString('base64')}`);
    try {
      const ctx = await workspace.context({ Dockerfile: `FROM busybox\nADD ${server.httpUrl}#v1 /private\n` });
      const refused = await build(ctx);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /Dockerfile:2: .*terminal prompts disabled/s);

      const out = await mkdtemp(join(tmpdir(), 'tcbuild-git-auth-'));
      workspace.remove(out);
      const withToken = await tcbuild(
        ['build', '--secret', 'id=GIT_AUTH_TOKEN,env=TOKEN', '-o', `type=local,dest=${out}/token`, ctx],
        {
          TCBUILD_ROOT: workspace.root(),
          TOKEN: token,
        },
      );
      assert.equal(withToken.code, 0, withToken.stderr);
      assert.equal(await readFile(join(out, 'token/private/app/hello.txt'), 'utf8'), 'hello from v1\n');

      const home = join(out, 'home');
      await mkdir(home);
      await writeFile(join(home, '.gitconfig'), '[credential]\n\thelper = store\n');
      await writeFile(
        join(home, '.git-credentials'),
        `${server.httpUrl.replace('http://', `http://x-access-token:${token}@`)}\n`,
      );
      const withHelper = await tcbuild(['build', '--no-cache', '-o', `type=local,dest=${out}/helper`, ctx], {
        TCBUILD_ROOT: workspace.root(),
        HOME: home,
      });
      assert.equal(withHelper.code, 0, withHelper.stderr);
      assert.equal(await readFile(join(out, 'helper/private/app/hello.txt'), 'utf8'), 'hello from v1\n');
    } finally {
      server.requireAuthorization(undefined);
    }
  });

  it('from a server that only gives what it advertises (protocol v0), takes a commit by its ref, or fetches everything', async () => {
    const root = await tempRoot();
    workspace.remove(root);
    await loadFixture('busybox:latest', root);
    const home = await mkdtemp(join(tmpdir(), 'tcbuild-git-home-'));
    workspace.remove(home);
    await writeFile(join(home, '.gitconfig'), '[protocol]\n\tversion = 0\n');
    const ctx = await workspace.context({
      Dockerfile: `FROM busybox\nADD ${server.gitUrl}#v1 /by-tag\nADD ${server.httpUrl}#${first} /by-commit\n`,
    });
    const out = join(home, 'out');
    const r = await tcbuild(['build', '-o', `type=local,dest=${out}`, ctx], { TCBUILD_ROOT: root, HOME: home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(out, 'by-tag/app/hello.txt'), 'utf8'), 'hello from v1\n');
    assert.equal(await readFile(join(out, 'by-commit/app/hello.txt'), 'utf8'), 'hello from v1\n');
  });

  it('a ref the repository lacks, a missing subdir and a wrong --checksum are errors naming the URL', async () => {
    const ctx = await workspace.context({ Dockerfile: `FROM busybox\nADD ${server.gitUrl}#nope /x\n` });
    const add = await build(ctx);
    assert.equal(add.code, 1);
    assert.match(
      add.stderr,
      new RegExp(`Dockerfile:2: ref 'nope' not found in ${server.gitUrl.replaceAll('.', '\\.')}`),
    );
    assert.doesNotMatch(add.stderr, /\n\s+at /, 'no stack trace');

    const context = await build(`${server.httpUrl}#nope`);
    assert.equal(context.code, 1);
    assert.match(context.stderr, /ref 'nope' not found in http:\/\/127\.0\.0\.1:\d+\/repo\.git/);

    const symlinked = await build(`${server.gitUrl}#main:link`);
    assert.equal(symlinked.code, 1);
    assert.match(symlinked.stderr, /the subdirectory "link" is a symbolic link in the repository/);

    const pinned = await workspace.context({
      Dockerfile: `FROM busybox\nADD --checksum=${first.slice(0, 12)} ${server.gitUrl}#v1 /ok\nADD --checksum=${first.slice(0, 12)} ${server.gitUrl}#main /moved\n`,
    });
    const checked = await build(pinned);
    assert.equal(checked.code, 1);
    assert.match(
      checked.stderr,
      new RegExp(`Dockerfile:3: .*/repo\\.git#main: expected commit ${first.slice(0, 12)}, but it is ${second}`),
    );
  });
});
