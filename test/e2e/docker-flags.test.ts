// The flags docker's CLI gives push, pull, images and inspect, as CI scripts use them.
import assert from 'node:assert/strict';
import { readdir, rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadFixture } from '../../scripts/fixtures.js';
import { tcbuild, tempRoot } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

describe('docker CLI flags of push, pull, images and inspect', () => {
  let registry: TestRegistry;
  let root = '';
  let other = '';
  const cli = (args: string[], store = root) => tcbuild(args, { TCBUILD_ROOT: store });

  before(async () => {
    registry = await startRegistry({});
    root = await tempRoot();
    other = await tempRoot();
    await loadFixture('busybox:latest', root);
    for (const tag of ['1', '2'])
      assert.equal((await cli(['tag', 'busybox', `${registry.host}/team/bb:${tag}`])).code, 0);
  });
  after(async () => {
    await registry?.stop();
    for (const dir of [root, other]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('push -q prints only the reference; push -a pushes every stored tag of a repository', async () => {
    const quiet = await cli(['push', '-q', `${registry.host}/team/bb:1`]);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, `${registry.host}/team/bb:1\n`);
    assert.equal(quiet.stderr, '');
    const all = await cli(['push', '--all-tags', '--quiet', `${registry.host}/team/bb`]);
    assert.equal(all.code, 0, all.stderr);
    assert.equal(all.stdout, `${registry.host}/team/bb:1\n${registry.host}/team/bb:2\n`);
    assert.deepEqual((await cli(['ls-tags', `${registry.host}/team/bb`])).stdout.split('\n').filter(Boolean).sort(), [
      '1',
      '2',
    ]);
    const tagged = await cli(['push', '-a', `${registry.host}/team/bb:1`]);
    assert.notEqual(tagged.code, 0);
    assert.match(tagged.stderr, /^error: push --all-tags .*without a tag/);
  });

  it('pull -q prints only the reference; pull -a pulls every tag', async () => {
    await cli(['push', '-a', '-q', `${registry.host}/team/bb`]);
    const quiet = await cli(['pull', '-q', `${registry.host}/team/bb:2`], other);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.equal(quiet.stdout, `${registry.host}/team/bb:2\n`);
    const all = await cli(['pull', '-a', `${registry.host}/team/bb`], other);
    assert.equal(all.code, 0, all.stderr);
    assert.match(
      all.stdout,
      new RegExp(
        `^${registry.host}/team/bb:1@sha256:[0-9a-f]{64}\\n${registry.host}/team/bb:2@sha256:[0-9a-f]{64}\\n$`,
      ),
    );
    assert.equal(
      (await cli(['images', '--format', '{{.Repository}}:{{.Tag}}'], other)).stdout,
      `${registry.host}/team/bb:1\n${registry.host}/team/bb:2\n`,
    );
  });

  it('images takes -a, --no-trunc, --digests, --filter and --format as docker does', async () => {
    const digest = (await cli(['images', '-q', '--no-trunc', 'busybox'])).stdout.trim();
    assert.match(digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal((await cli(['images', '-q', 'busybox'])).stdout, `${digest.slice(7, 19)}\n`);
    const table = (await cli(['images', '-a'])).stdout.split('\n');
    assert.match(table[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE$/);
    assert.match(
      table.find((l) => l.startsWith('busybox '))!,
      new RegExp(`^busybox\\s+latest\\s+${digest.slice(7, 19)}\\s+\\d`),
    );
    assert.match(
      (await cli(['images', '--digests'])).stdout.split('\n')[0]!,
      /^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+SIZE$/,
    );
    const filtered = await cli([
      'images',
      '--filter',
      `reference=${registry.host}/team/*:2`,
      '--format',
      '{{.Repository}} {{.Tag}}',
    ]);
    assert.equal(filtered.stdout, `${registry.host}/team/bb 2\n`);
    assert.equal((await cli(['images', '-f', 'dangling=true', '-q'])).stdout, '');
    const json = JSON.parse((await cli(['images', '--format', '{{json .}}', 'busybox:latest'])).stdout) as Record<
      string,
      string
    >;
    assert.deepEqual(Object.keys(json).sort(), ['Digest', 'ID', 'Repository', 'Size', 'Tag']);
    const custom = (await cli(['images', '--format', 'table {{.Repository}}\\t{{.Tag}}', 'busybox'])).stdout;
    assert.match(custom, /^REPOSITORY\s+TAG\nbusybox\s+latest\n$/);
    const bad = await cli(['images', '--filter', 'colour=red']);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^error: --filter colour=red: expected reference=PATTERN, dangling=true\|false, label=KEY\[=VALUE\]/,
    );
  });

  it("images --filter takes label=KEY[=VALUE], before=IMAGE and since=IMAGE (by the configs' created times)", async () => {
    const build = async (tag: string, epoch: number, dockerfile: string) => {
      const r = await tcbuild(
        ['build', '-q', '-t', tag, '-'],
        { TCBUILD_ROOT: root, SOURCE_DATE_EPOCH: String(epoch) },
        dockerfile,
      );
      assert.equal(r.code, 0, r.stderr);
    };
    await build('lab:old', 1_600_000_000, 'FROM busybox\nLABEL team=a tier=db\nRUN true\n');
    await build('lab:mid', 1_650_000_000, 'FROM busybox\nLABEL team=b\nRUN true\n');
    await build('lab:new', 1_700_000_000, 'FROM busybox\nLABEL team=a\nRUN true\n');
    const list = async (...filter: string[]) =>
      (
        await cli(['images', ...filter.flatMap((f) => ['--filter', f]), '--format', '{{.Repository}}:{{.Tag}}', 'lab'])
      ).stdout
        .split('\n')
        .filter(Boolean)
        .sort();
    assert.deepEqual(await list('label=team=a'), ['lab:new', 'lab:old']);
    assert.deepEqual(await list('label=tier'), ['lab:old']);
    assert.deepEqual(await list('label=team', 'label=team=b'), ['lab:mid']);
    assert.deepEqual(await list('before=lab:mid'), ['lab:old']);
    assert.deepEqual(await list('since=lab:mid'), ['lab:new']);
    assert.deepEqual(await list('since=lab:old', 'label=team=a'), ['lab:new']);
    const missing = await cli(['images', '--filter', 'before=nosuch:1']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: --filter before=nosuch:1: no image nosuch:1 in the store/);
  });

  it("prune takes docker builder prune's --filter until=… and label=…, and -f", async () => {
    const built = await tcbuild(
      ['build', '-q', '-t', 'cached:1', '-'],
      { TCBUILD_ROOT: root },
      'FROM busybox\nRUN echo cached > /c\n',
    );
    assert.equal(built.code, 0, built.stderr);
    const removed = async (...args: string[]) => {
      const r = await cli(['prune', ...args]);
      assert.equal(r.code, 0, r.stderr);
      return Number(/^removed (\d+) cache records/.exec(r.stdout)?.[1]);
    };
    assert.equal(await removed('--filter', 'until=24h'), 0, 'the records are newer than a day');
    assert.equal(await removed('-f', '--filter', 'label=team=a'), 0, 'cache records carry no labels');
    const records = join(root, 'cache');
    const old = new Date(Date.now() - 48 * 3600_000);
    for (const name of await readdir(records)) await utimes(join(records, name), old, old);
    assert.ok((await removed('-af', '--filter', 'until=1h30m')) > 0, 'records last used two days ago go');
    const bad = await cli(['prune', '--filter', 'until=soon']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: --filter until=soon: "soon" is neither a duration/);
  });

  it("inspect --format reads docker's fields and ours", async () => {
    const built = await tcbuild(
      ['build', '-q', '-t', 'built:1', '-'],
      { TCBUILD_ROOT: root },
      'FROM busybox\nENV X=1\n',
    );
    assert.equal(built.code, 0, built.stderr);
    const r = await cli([
      'inspect',
      '--format',
      '{{.Id}} {{.Architecture}} {{.Os}} {{json .RepoTags}} {{.descriptor.mediaType}}',
      'built:1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /^sha256:[0-9a-f]{64} amd64 linux \["built:1"\] application\/vnd\.oci\.image\.manifest\.v1\+json\n$/,
    );
    const env = await cli(['inspect', '-f', '{{range .Config.Env}}{{.}};{{end}}', 'built:1']);
    assert.match(env.stdout, /^PATH=[^;]+;X=1;\n$/);
    const bad = await cli(['inspect', '-f', '{{if .Id}}x{{end}}', 'busybox']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: --format/);
  });
});
