// Attacks a hostile Dockerfile, stage or server can try on the host through ADD and RUN --mount,
// each asserted on the host afterwards: nothing written, read, mounted or deleted outside the root.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NEEDS_ROOT } from '../helpers/cli.js';
import { buildToDir, buildWorkspace } from '../helpers/context.js';

const UP = '../'.repeat(24);

describe('host breakouts through ADD and RUN --mount', { skip: NEEDS_ROOT }, () => {
  const workspace = buildWorkspace();
  const context = workspace.context;
  /** A host directory the attacks aim at: outside every store, context and image. */
  let canary = '';
  const hostSecret = 'HOST SECRET\n';

  before(async () => {
    canary = await mkdtemp(join(tmpdir(), 'tcbuild-canary-'));
    workspace.remove(canary);
  });

  /** Resets the canary to: secret.txt, sub/secret2.txt, and empty things a clean-up might delete. */
  async function armCanary(): Promise<void> {
    await rm(canary, { recursive: true, force: true });
    await mkdir(join(canary, 'sub'), { recursive: true });
    await writeFile(join(canary, 'secret.txt'), hostSecret);
    await writeFile(join(canary, 'sub/secret2.txt'), hostSecret);
    for (const name of ['victim', 'hosts', 'hostname', 'resolv.conf']) await writeFile(join(canary, name), '');
    for (const dir of ['empty-dir', 'a/b', 'proc', 'sys']) await mkdir(join(canary, dir), { recursive: true });
  }

  async function canaryListing(): Promise<string[]> {
    const walk = async (dir: string, prefix: string): Promise<string[]> => {
      const out: string[] = [];
      for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
        out.push(`${prefix}${e.name}${e.isDirectory() ? '/' : ''}`);
        if (e.isDirectory()) out.push(...(await walk(join(dir, e.name), `${prefix}${e.name}/`)));
      }
      return out;
    };
    return walk(canary, '');
  }

  const pristine = [
    'a/',
    'a/b/',
    'empty-dir/',
    'hostname',
    'hosts',
    'proc/',
    'resolv.conf',
    'secret.txt',
    'sub/',
    'sub/secret2.txt',
    'sys/',
    'victim',
  ];

  describe('ADD <url>: the file name from the URL or the server is one path element', () => {
    let server: Server;
    let base = '';
    before(async () => {
      server = createServer((req, res) => {
        const disposition: Record<string, string> = {
          '/cd/dotdot.txt': 'attachment; filename=".."',
          '/cd/quoted': `attachment; filename="${UP}${canary.slice(1)}/e5"`,
          '/cd/extended': `attachment; filename*=UTF-8''${encodeURIComponent(`${UP}${canary.slice(1)}/e6`)}`,
          '/cd/absolute': `attachment; filename="${canary}/e7"`,
          '/cd/dir/': 'attachment; filename="dir/"',
        };
        const path = (req.url ?? '').replace(/\?.*$/, '');
        res.writeHead(200, disposition[path] ? { 'content-disposition': disposition[path] } : {});
        res.end(`served ${path}\n`);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('never writes outside the download directory, however the name is spelt', async () => {
      await armCanary();
      const target = `${UP}${canary.slice(1)}`;
      const encodedUpper = encodeURIComponent(`x/${target}/e1`);
      const encodedLower = encodedUpper.replace(/%2F/g, '%2f');
      const dotted = `${target}/e3`.replace(/\./g, '%2e').replace(/\//g, '%2f');
      const adds: [string, string][] = [
        [`/${encodedUpper}`, '/dl1/e1'],
        [`/${encodedLower}`, '/dl2/e1'],
        [`/${dotted}`, '/dl3/e3'],
        ['/dir/..%2F..', '/dl4/index'],
        ['/dir/%2e%2e', '/dl5/index'],
        ['/cd/quoted', '/dl6/e5'],
        ['/cd/extended', '/dl7/e6'],
        ['/cd/absolute', '/dl8/e7'],
        ['/cd/dotdot.txt', '/dl9/dotdot.txt'],
        ['/cd/dir/', '/dl10/dir'],
        ['/nul%00', '/dl11/index'],
      ];
      const ctx = await context({
        Dockerfile: ['FROM busybox', ...adds.map(([url], i) => `ADD ${base}${url} /dl${i + 1}/`), ''].join('\n'),
      });
      const r = await buildToDir(workspace.root(), ctx);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await canaryListing(), pristine, 'nothing was written next to the canary');
      for (const [url, inImage] of adds) {
        const dir = join(r.out, inImage.split('/')[1]!);
        assert.deepEqual(readdirSync(dir), [inImage.split('/')[2]], `${url} gives one file in its directory`);
        assert.match(await readFile(join(r.out, inImage), 'utf8'), /^served /, url);
      }
      assert.ok(!existsSync(join(workspace.root(), 'e1')) && !existsSync('/e1') && !existsSync('/tmp/e1'));
    });

    it('keeps a malformed percent escape as it is', async () => {
      const ctx = await context({ Dockerfile: `FROM busybox\nADD ${base}/bad%zz /dl/\n` });
      const r = await buildToDir(workspace.root(), ctx);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(readdirSync(join(r.out, 'dl')), ['bad%zz']);
    });
  });

  describe('RUN --mount sources resolve inside their own tree', () => {
    /** A stage whose links aim at the canary, and decoys at the same paths inside the stage. */
    const evilStage = (withDecoys: boolean) => [
      'FROM busybox AS evil',
      ...(withDecoys
        ? [`RUN mkdir -p ${canary}/sub && echo decoy > ${canary}/secret.txt && echo decoy2 > ${canary}/sub/secret2.txt`]
        : []),
      `RUN ln -s ${canary}/secret.txt /abs-link && ln -s ${UP}${canary.slice(1)}/secret.txt /rel-link && ln -s ${canary} /dir-link && ln -s /dir-link /chain && ln -s ${canary}/sub /sub-link`,
    ];

    it("a symlink to a host path mounts the stage's own file or directory, never the host's", async () => {
      await armCanary();
      const mounts = [
        'source=abs-link',
        'source=rel-link',
        'source=dir-link/secret.txt',
        'source=chain/sub/secret2.txt',
        'source=sub-link/../secret.txt',
      ];
      const ctx = await context({
        Dockerfile: [
          ...evilStage(true),
          'FROM busybox',
          ...mounts.map((m, i) => `RUN --mount=type=bind,from=evil,${m},target=/m cat /m > /seen${i}.txt`),
          'RUN --mount=type=bind,from=evil,source=dir-link,target=/d ls /d > /seen-dir.txt',
          'RUN --mount=type=bind,from=evil,source=abs-link,target=/m,rw echo pwned > /m && cat /m > /seen-rw.txt',
          'RUN --mount=type=bind,from=evil,source=dir-link,target=/d,rw echo pwned > /d/pwned && echo pwned > /d/secret.txt',
          `RUN --mount=type=cache,id=seed,from=evil,source=sub-link,target=/c cat /c/secret2.txt > /seen-cache.txt`,
          '',
        ].join('\n'),
      });
      const r = await buildToDir(workspace.root(), ctx);
      assert.equal(r.code, 0, r.stderr);
      for (let i = 0; i < mounts.length; i++)
        assert.match(await readFile(join(r.out, `seen${i}.txt`), 'utf8'), /^decoy2?\n$/, mounts[i]);
      assert.equal(await readFile(join(r.out, 'seen-dir.txt'), 'utf8'), 'secret.txt\nsub\n');
      assert.equal(await readFile(join(r.out, 'seen-rw.txt'), 'utf8'), 'pwned\n');
      assert.equal(await readFile(join(r.out, 'seen-cache.txt'), 'utf8'), 'decoy2\n');
      assert.deepEqual(await canaryListing(), pristine);
      assert.equal(
        await readFile(join(canary, 'secret.txt'), 'utf8'),
        hostSecret,
        'a rw mount never writes the host file',
      );
    });

    it('a symlink to a host path that the stage lacks fails clearly, naming the line', async () => {
      await armCanary();
      for (const [i, mount] of [
        'type=bind,source=abs-link',
        'type=bind,source=dir-link',
        'type=bind,source=chain/sub',
        'type=cache,source=sub-link',
      ].entries()) {
        const ctx = await context({
          Dockerfile: [
            ...evilStage(false),
            'FROM busybox',
            `RUN --mount=${mount},from=evil,target=/m${i} ls -la /m${i}/ /m${i}`,
            '',
          ].join('\n'),
        });
        const r = await buildToDir(workspace.root(), ctx);
        assert.notEqual(r.code, 0, mount);
        assert.match(r.stderr, /Dockerfile:4: RUN --mount=.*mount source "[^"]+" does not exist/, mount);
        assert.doesNotMatch(r.stderr + r.stdout, /HOST SECRET/, mount);
      }
      assert.deepEqual(await canaryListing(), pristine);
    });

    it('a context symlink to a host path stays inside the context', async () => {
      await armCanary();
      const ctx = await context({
        Dockerfile: [
          'FROM busybox',
          'RUN --mount=type=bind,source=link-in,target=/m cat /m > /seen-in.txt',
          'RUN --mount=type=bind,source=.,target=/ctx (cat /ctx/link-in || true) > /seen-through.txt',
          '',
        ].join('\n'),
        [`${canary.slice(1)}/secret.txt`]: 'context decoy\n',
        'link-in': { symlink: `${canary}/secret.txt` },
      });
      const r = await buildToDir(workspace.root(), ctx);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await readFile(join(r.out, 'seen-in.txt'), 'utf8'), 'context decoy\n');
      assert.equal(
        await readFile(join(r.out, 'seen-through.txt'), 'utf8'),
        '',
        'in the container the link leads into its own root',
      );
      const out = await context({
        Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=link-out,target=/m cat /m\n',
        'link-out': { symlink: `${canary}/sub/secret2.txt` },
      });
      const failed = await buildToDir(workspace.root(), out);
      assert.notEqual(failed.code, 0);
      assert.match(failed.stderr, /Dockerfile:2: .*"link-out" not found in the build context/);
      assert.doesNotMatch(failed.stderr, /HOST SECRET/);
    });
  });

  describe('clean-up of mount points after a RUN', () => {
    it('never deletes through a symlink the RUN planted where a mount point was', async () => {
      await armCanary();
      const ctx = await context({
        Dockerfile: [
          'FROM busybox',
          `RUN --mount=type=tmpfs,target=/m1/victim mv /m1 /m1.old && ln -s ${canary} /m1`,
          `RUN --mount=type=tmpfs,target=/m2/empty-dir mv /m2 /m2.old && ln -s ${UP}${canary.slice(1)} /m2`,
          `RUN --mount=type=tmpfs,target=/m3/a/b/c mv /m3 /m3.old && ln -s ${canary} /m3`,
          `RUN --mount=type=tmpfs,target=/m4/deep/a/b/x mkdir -p /m4/deep && mv /m4/deep /m4/deep.old && ln -s ${canary} /m4/deep`,
          '',
        ].join('\n'),
      });
      const r = await buildToDir(workspace.root(), ctx);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await canaryListing(), pristine, 'every empty file and directory of the canary is still there');
    });

    it('never deletes through a symlink put where the sandbox mounted /etc/hosts, /etc/resolv.conf and /etc/hostname', async () => {
      await armCanary();
      const ctx = await context({
        Dockerfile: [
          'FROM busybox AS bb',
          'FROM scratch',
          'COPY --from=bb /bin /bin',
          `RUN mv /etc /etc.old && ln -s ${canary} /etc`,
          '',
        ].join('\n'),
      });
      const r = await buildToDir(workspace.root(), ctx);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(await canaryListing(), pristine);
    });
  });

  describe('RUN --mount=type=bind of the context sees what COPY sees', () => {
    it('hides what .dockerignore excludes, at every depth, with exceptions, for ro and rw mounts and subdirectories', async () => {
      const ctx = await context({
        '.dockerignore': ['secret.env', 'private', '**/*.key', 'docs/*', '!docs/keep.md', 'sub/deep/*.pem', ''].join(
          '\n',
        ),
        Dockerfile: [
          'FROM busybox',
          'COPY . /copied',
          'RUN --mount=type=bind,target=/ctx cd /ctx && find . | sort > /seen-ro.txt',
          'RUN --mount=type=bind,target=/ctx,rw cd /ctx && find . | sort > /seen-rw.txt',
          'RUN --mount=type=bind,source=sub,target=/sub cd /sub && find . | sort > /seen-sub.txt',
          'RUN cd /copied && find . | sort > /seen-copy.txt && cd /copied/sub && find . | sort > /seen-copy-sub.txt',
          'RUN --mount=type=bind,target=/ctx cat /ctx/secret.env /ctx/private/p.txt /ctx/a/b/c.key /ctx/sub/deep/x.pem /ctx/docs/drop.md > /leak.txt 2>/dev/null; true',
          '',
        ].join('\n'),
        'secret.env': 'TOKEN=1\n',
        'private/p.txt': 'private\n',
        'a/b/c.key': 'key\n',
        'a/b/c.txt': 'text\n',
        'docs/keep.md': 'keep\n',
        'docs/drop.md': 'drop\n',
        'sub/deep/x.pem': 'pem\n',
        'sub/deep/y.txt': 'y\n',
        'sub/k.key': 'key\n',
      });
      const r = await buildToDir(workspace.root(), ctx);
      assert.equal(r.code, 0, r.stderr);
      const copy = await readFile(join(r.out, 'seen-copy.txt'), 'utf8');
      for (const seen of ['seen-ro.txt', 'seen-rw.txt'])
        assert.equal(await readFile(join(r.out, seen), 'utf8'), copy, seen);
      assert.equal(
        await readFile(join(r.out, 'seen-sub.txt'), 'utf8'),
        await readFile(join(r.out, 'seen-copy-sub.txt'), 'utf8'),
      );
      assert.doesNotMatch(copy, /secret\.env|private|\.key|drop\.md|x\.pem/);
      assert.match(copy, /docs\/keep\.md/);
      assert.equal(await readFile(join(r.out, 'leak.txt'), 'utf8'), '');
      const excluded = await context({
        '.dockerignore': 'secret.env\n',
        Dockerfile: 'FROM busybox\nRUN --mount=type=bind,source=link,target=/m cat /m\n',
        'secret.env': 'TOKEN=1\n',
        link: { symlink: 'secret.env' },
      });
      const failed = await buildToDir(workspace.root(), excluded);
      assert.notEqual(failed.code, 0);
      assert.match(failed.stderr, /Dockerfile:2: .*"link" not found in the build context/);
      assert.doesNotMatch(failed.stderr, /TOKEN/);
    });
  });
});
