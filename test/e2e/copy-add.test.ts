import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { lstat, readFile, readdir, readlink, stat, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fsOps } from '../../src/snapshot/native.js';
import { NEEDS_ROOT } from '../helpers/cli.js';
import { buildToDir, buildWorkspace, ranLines } from '../helpers/context.js';

describe('COPY and ADD through bin/tcbuild: .dockerignore, flags, symlinks, archives, URLs', {
  skip: NEEDS_ROOT,
}, () => {
  const workspace = buildWorkspace();
  const context = workspace.context;

  it('applies .dockerignore with Docker semantics: **, ! exceptions in order, leading /, .. cleaned', async () => {
    const ctx = await context({
      Dockerfile: 'FROM busybox\nCOPY . /ctx/\n',
      '.dockerignore': [
        '# comment',
        '**/*.log',
        '!keep.log',
        '/secret.txt',
        'build/',
        '!build/dist/app.js',
        'a/../tmp',
        'docs/*/draft.md',
        '',
      ].join('\n'),
      'app.txt': 'app\n',
      'x.log': 'no\n',
      'keep.log': 'yes\n',
      'deep/er/y.log': 'no\n',
      'deep/er/z.txt': 'yes\n',
      'secret.txt': 'no\n',
      'sub/secret.txt': 'yes\n',
      'build/obj.o': 'no\n',
      'build/dist/app.js': 'yes\n',
      'tmp/scratch': 'no\n',
      'docs/a/draft.md': 'no\n',
      'docs/a/final.md': 'yes\n',
    });
    const r = await buildToDir(workspace.root(), ctx);
    assert.equal(r.code, 0, r.stderr);
    const present = (p: string) => existsSync(join(r.out, 'ctx', p));
    for (const p of [
      'app.txt',
      'keep.log',
      'deep/er/z.txt',
      'sub/secret.txt',
      'build/dist/app.js',
      'docs/a/final.md',
      'Dockerfile',
    ])
      assert.ok(present(p), `${p} is copied`);
    for (const p of ['x.log', 'deep/er/y.log', 'secret.txt', 'build/obj.o', 'tmp', 'docs/a/draft.md'])
      assert.ok(!present(p), `${p} is ignored`);
  });

  it('prefers <Dockerfile>.dockerignore beside the Dockerfile over the context one', async () => {
    const ctx = await context({
      'build.Dockerfile': 'FROM busybox\nCOPY . /ctx/\n',
      'build.Dockerfile.dockerignore': 'b.txt\n',
      '.dockerignore': 'a.txt\n',
      'a.txt': 'a\n',
      'b.txt': 'b\n',
    });
    const r = await buildToDir(workspace.root(), ctx, ['-f', join(ctx, 'build.Dockerfile')]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(r.out, 'ctx/a.txt')));
    assert.ok(!existsSync(join(r.out, 'ctx/b.txt')));
  });

  it('keys COPY on what it reads: mtime-only changes and ignored files keep it cached, content changes do not', async () => {
    const ctx = await context({
      Dockerfile: 'FROM busybox\nCOPY src/ /src/\nRUN cat /src/a.txt > /seen\n',
      '.dockerignore': 'src/*.tmp\n',
      'src/a.txt': 'one\n',
      'src/b.tmp': 'ignored\n',
    });
    const first = await buildToDir(workspace.root(), ctx);
    assert.equal(first.code, 0, first.stderr);
    await utimes(join(ctx, 'src/a.txt'), new Date(2001, 1, 1), new Date(2001, 1, 1));
    await writeFile(join(ctx, 'src/b.tmp'), 'changed but ignored\n');
    const touched = await buildToDir(workspace.root(), ctx);
    assert.equal(touched.code, 0, touched.stderr);
    assert.deepEqual(ranLines(touched.stderr), []);
    await writeFile(join(ctx, 'src/a.txt'), 'two\n');
    const changed = await buildToDir(workspace.root(), ctx);
    assert.equal(changed.code, 0, changed.stderr);
    assert.deepEqual(ranLines(changed.stderr), [2, 3]);
    assert.equal(await readFile(join(changed.out, 'seen'), 'utf8'), 'two\n');
    const hashes = await readdir(join(workspace.root(), 'context-hashes'));
    assert.equal(hashes.length > 0, true, 'file hashes are remembered under the store root');
  });

  it('keys COPY on file capabilities too: a setcap on a context file reruns the COPY, whose copy keeps them', async () => {
    const ctx = await context({
      Dockerfile: 'FROM busybox\nCOPY tool /tool\n',
      tool: { content: '#!/bin/sh\n', mode: 0o755 },
    });
    const first = await buildToDir(workspace.root(), ctx);
    assert.equal(first.code, 0, first.stderr);
    const capability = Buffer.from('0100000200200000000000000000000000000000', 'hex');
    fsOps().lsetxattr(join(ctx, 'tool'), 'security.capability', capability);
    const again = await buildToDir(workspace.root(), ctx);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(ranLines(again.stderr), [2]);
    assert.deepEqual(fsOps().lgetxattr(join(again.out, 'tool'), 'security.capability'), capability);
  });

  it('copies with wildcards, directory contents, --chmod (octal and symbolic), --chown by name, --parents, --exclude and --link', async () => {
    const ctx = await context({
      Dockerfile: [
        'FROM busybox AS stage',
        'RUN mkdir -p /built && echo built > /built/out.txt && chown -R daemon:daemon /built',
        'FROM busybox',
        'COPY *.txt /glob/',
        'COPY dir /contents/',
        'COPY dir/sub/one.txt /renamed.txt',
        'COPY --chmod=640 a.txt /octal.txt',
        'COPY --chmod=u+x,g=r,o= a.txt /symbolic.txt',
        'COPY --chown=daemon:wheel a.txt /owned.txt',
        'COPY --parents dir/sub/*.txt /parents/',
        'COPY --parents ./dir/./sub/one.txt /pivot/',
        'COPY --exclude=*.md --exclude=sub/two.txt dir/ /excluded/',
        'COPY --link b.txt /linked/b.txt',
        'COPY --from=stage /built /from-stage/',
        'COPY --from=0 /built/out.txt /from-index.txt',
        'WORKDIR /wd',
        'COPY a.txt .',
        '',
      ].join('\n'),
      'a.txt': { content: 'a\n', mode: 0o604 },
      'b.txt': 'b\n',
      'dir/readme.md': 'readme\n',
      'dir/sub/one.txt': 'one\n',
      'dir/sub/two.txt': 'two\n',
    });
    const r = await buildToDir(workspace.root(), ctx);
    assert.equal(r.code, 0, r.stderr);
    const o = (p: string) => join(r.out, p);
    assert.deepEqual((await readdir(o('glob'))).sort(), ['a.txt', 'b.txt']);
    assert.deepEqual((await readdir(o('contents'))).sort(), ['readme.md', 'sub']);
    assert.equal(await readFile(o('renamed.txt'), 'utf8'), 'one\n');
    assert.equal((await stat(o('octal.txt'))).mode & 0o7777, 0o640);
    assert.equal((await stat(o('symbolic.txt'))).mode & 0o7777, 0o740);
    const owned = await stat(o('owned.txt'));
    assert.deepEqual([owned.uid, owned.gid], [1, 10]);
    assert.deepEqual((await readdir(o('parents/dir/sub'))).sort(), ['one.txt', 'two.txt']);
    assert.equal(await readFile(o('pivot/sub/one.txt'), 'utf8'), 'one\n');
    assert.deepEqual((await readdir(o('excluded'))).sort(), ['sub']);
    assert.deepEqual(await readdir(o('excluded/sub')), ['one.txt']);
    assert.equal(await readFile(o('linked/b.txt'), 'utf8'), 'b\n');
    const built = await stat(o('from-stage/out.txt'));
    assert.deepEqual([built.uid, built.gid], [1, 1], 'files from a stage keep their owners');
    assert.equal(await readFile(o('from-index.txt'), 'utf8'), 'built\n');
    assert.equal(await readFile(o('wd/a.txt'), 'utf8'), 'a\n');
  });

  // docker 20.10's BuildKit fails in its context sender here ("readdirent sub: not a directory");
  // the current one globs as Go does (a file is no directory to look in) and allows empty wildcards.
  it('a COPY glob that meets a file where it expects a directory matches nothing there; a plain path through a file is not found', async () => {
    const ctx = await context({
      Dockerfile: 'FROM busybox\nCOPY */a.txt /one/\nCOPY sub/*.txt /two/\n',
      sub: 'a file\n',
      'dir/a.txt': 'a\n',
    });
    const r = await buildToDir(workspace.root(), ctx);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(await readdir(join(r.out, 'one')), ['a.txt']);
    assert.equal(existsSync(join(r.out, 'two')), false, 'an empty wildcard copies nothing');

    await writeFile(join(ctx, 'Dockerfile'), 'FROM busybox\nCOPY sub/x /three/\n');
    const through = await buildToDir(workspace.root(), ctx);
    assert.equal(through.code, 1);
    assert.match(through.stderr, /Dockerfile:2: COPY sub\/x \/three\/: "sub\/x" not found in the build context/);
    assert.doesNotMatch(through.stderr, /ENOTDIR/);
  });

  // Measured with docker 20.10's BuildKit: '"/arr\\[0\\].txt" not found' (contenthash containsWildcards);
  // the quoted form keeps its backslashes, so not a conformance case (docker's build fails).
  it('a quoted source whose wildcard characters are all escaped is a plain path, backslashes included', async () => {
    const ctx = await context({ Dockerfile: 'FROM busybox\nCOPY "arr\\[0\\].txt" /quoted/\n', 'arr[0].txt': 'zero\n' });
    const r = await buildToDir(workspace.root(), ctx);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /Dockerfile:2: COPY "arr\\\[0\\\]\.txt" \/quoted\/: "arr\\\[0\\\]\.txt" not found in the build context/,
    );
    assert.match(r.stderr, /name arr\[0\]\.txt as arr\[\[\]0\]\.txt/);
  });

  it('never follows a symlink out of the context or out of the image root', async () => {
    const outside = join(workspace.root(), 'outside-target');
    const ctx = await context({
      Dockerfile: [
        'FROM busybox',
        'RUN ln -s / /escape && ln -s ../../../../../../.. /up && mkdir -p /real',
        'COPY link-to-root/etc/hostname /from-link/',
        `COPY evil.txt /escape${outside}/`,
        'COPY evil.txt /up/tmp/up.txt',
        'COPY tree/ /real/',
        'COPY tree/ /real/',
        'COPY up-to-hostname /followed/',
        '',
      ].join('\n'),
      'link-to-root': { symlink: '/' },
      'up-to-hostname': { symlink: '../../../etc/hostname' },
      'etc/hostname': 'context hostname\n',
      'evil.txt': 'evil\n',
      'tree/dirlink': { symlink: '/tmp' },
      'tree/file': 'file\n',
    });
    const r = await buildToDir(workspace.root(), ctx);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      await readFile(join(r.out, 'from-link/hostname'), 'utf8'),
      'context hostname\n',
      'a context symlink to / stays inside the context',
    );
    assert.ok(!existsSync(outside), 'nothing is written through a symlink in the image to the host');
    assert.equal(await readFile(join(r.out, outside, 'evil.txt'), 'utf8'), 'evil\n');
    assert.equal(await readFile(join(r.out, 'tmp/up.txt'), 'utf8'), 'evil\n');
    assert.equal(await readlink(join(r.out, 'real/dirlink')), '/tmp');
    assert.ok((await lstat(join(r.out, 'real/dirlink'))).isSymbolicLink());
    assert.equal(
      await readFile(join(r.out, 'followed/up-to-hostname'), 'utf8'),
      'context hostname\n',
      'a symlink named as source is followed inside the context',
    );
  });

  it('ADD unpacks local tarballs (plain, gzip, zstd) by content, copies other files as they are', async () => {
    const ctx = await context({
      'payload/hello.txt': 'from the archive\n',
      'payload/bin/tool': { content: '#!/bin/sh\n', mode: 0o755 },
      'not-a-tar.gz': 'just text\n',
    });
    execFileSync('tar', ['-cf', join(ctx, 'plain.tar'), '-C', join(ctx, 'payload'), '.']);
    execFileSync('tar', ['-czf', join(ctx, 'gzipped.tgz'), '-C', join(ctx, 'payload'), '.']);
    execFileSync('sh', ['-c', `zstd -q -c ${join(ctx, 'plain.tar')} > ${join(ctx, 'zstd.tar.zst')}`]);
    await writeFile(
      join(ctx, 'Dockerfile'),
      [
        'FROM busybox',
        'ADD plain.tar /plain/',
        'ADD gzipped.tgz /gz',
        'ADD zstd.tar.zst /zst/',
        'ADD not-a-tar.gz /copied/',
        'COPY gzipped.tgz /kept/',
        '',
      ].join('\n'),
    );
    const r = await buildToDir(workspace.root(), ctx);
    assert.equal(r.code, 0, r.stderr);
    for (const dir of ['plain', 'gz', 'zst']) {
      assert.equal(await readFile(join(r.out, dir, 'hello.txt'), 'utf8'), 'from the archive\n', dir);
      assert.equal((await stat(join(r.out, dir, 'bin/tool'))).mode & 0o777, 0o755);
    }
    assert.equal(await readFile(join(r.out, 'copied/not-a-tar.gz'), 'utf8'), 'just text\n');
    assert.ok((await stat(join(r.out, 'kept/gzipped.tgz'))).isFile(), 'COPY never unpacks');
  });

  describe('ADD of an http URL', () => {
    let server: Server;
    let base: string;
    const body = 'downloaded body\n';
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;

    before(async () => {
      server = createServer((req, res) => {
        if (req.url === '/files/tool.sh') {
          res.writeHead(200, { 'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT', 'content-type': 'text/plain' });
          res.end(body);
        } else {
          res.writeHead(404);
          res.end();
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });

    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('downloads, verifies --checksum, names the file after the URL, mode 0600 and Last-Modified as mtime, with --chown/--chmod', async () => {
      const ctx = await context({
        Dockerfile: [
          'FROM busybox',
          `ADD --checksum=${digest} ${base}/files/tool.sh /dl/`,
          `ADD ${base}/files/tool.sh /renamed.sh`,
          `ADD --chown=daemon --chmod=755 ${base}/files/tool.sh /owned/`,
          '',
        ].join('\n'),
      });
      const r = await buildToDir(workspace.root(), ctx);
      assert.equal(r.code, 0, r.stderr);
      const st = await stat(join(r.out, 'dl/tool.sh'));
      assert.equal(await readFile(join(r.out, 'dl/tool.sh'), 'utf8'), body);
      assert.equal(st.mode & 0o777, 0o600);
      assert.equal(st.mtime.toISOString(), '2015-10-21T07:28:00.000Z');
      assert.equal(await readFile(join(r.out, 'renamed.sh'), 'utf8'), body);
      const owned = await stat(join(r.out, 'owned/tool.sh'));
      assert.deepEqual([owned.uid, owned.mode & 0o777], [1, 0o755]);
    });

    it('fails on a checksum mismatch, naming the line', async () => {
      const ctx = await context({
        Dockerfile: `FROM busybox\nADD --checksum=sha256:${'0'.repeat(64)} ${base}/files/tool.sh /dl/\n`,
      });
      const r = await buildToDir(workspace.root(), ctx);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Dockerfile:2: .*digest mismatch sha256:0{64}: sha256:[0-9a-f]{64}/);
    });
  });
});
