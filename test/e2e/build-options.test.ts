import assert from 'node:assert/strict';
import { readFile, rm, stat, utimes, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { NEEDS_ROOT, run, tcbuild } from '../helpers/cli.js';
import { buildWorkspace, ranLines } from '../helpers/context.js';

describe('build options and caching through bin/tcbuild', { skip: NEEDS_ROOT }, () => {
  const workspace = buildWorkspace();
  let context: string;
  const env = () => ({ TCBUILD_ROOT: workspace.root() });

  before(async () => {
    context = await workspace.context({});
  });

  it('runs independent stages at the same time (two stages that meet over loopback)', { timeout: 60_000 }, async () => {
    const port = 20000 + (process.pid % 20000);
    await writeFile(
      join(context, 'Dockerfile'),
      [
        'FROM busybox AS server',
        // nc gives up on a connection when its stdin ends: keep stdin open with a fifo until it has read.
        // timeout: a client that never comes must fail the build, not hang it.
        `RUN mkfifo /in && (sleep 60 > /in &) && timeout 90 nc -l -p ${port} < /in > /received.txt; killall sleep; test -s /received.txt`,
        'FROM busybox AS client',
        `RUN for i in $(seq 1 100); do echo hello-from-client | nc 127.0.0.1 ${port} && exit 0; sleep 0.1; done; exit 1`,
        'FROM busybox',
        'COPY --from=client /etc/passwd /client-done',
        'COPY --from=server /received.txt /received.txt',
        '',
      ].join('\n'),
    );
    const out = join(context, 'out');
    // Each RUN has a private network of its own by default: the stages meet on the host's.
    const r = await tcbuild(
      ['build', '--progress', 'plain', '--network', 'host', '-o', `type=local,dest=${out}`, context],
      env(),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(out, 'received.txt'), 'utf8'), 'hello-from-client\n');
    await rm(out, { recursive: true });
  });

  it('keeps every step cached when a context file is only touched, and reruns only what depends on a changed file or arg', async () => {
    await mkdir(join(context, 'src'), { recursive: true });
    await writeFile(join(context, 'src', 'a.txt'), 'a1\n');
    await writeFile(join(context, 'b.txt'), 'b1\n');
    await writeFile(
      join(context, 'Dockerfile'),
      [
        'FROM busybox',
        'RUN echo base > /base',
        'COPY b.txt /b.txt',
        'ARG V=1',
        'RUN echo $V > /v',
        'COPY src/ /src/',
        'RUN cat /src/a.txt > /copied',
        '',
      ].join('\n'),
    );
    const buildIt = (...args: string[]) => tcbuild(['build', '--progress', 'plain', ...args, context], env());
    const first = await buildIt();
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(ranLines(first.stderr), [2, 3, 5, 6, 7]);

    const again = await buildIt();
    assert.deepEqual(ranLines(again.stderr), [], 'an unchanged project runs nothing');

    const later = new Date(Date.now() + 60_000);
    await utimes(join(context, 'src', 'a.txt'), later, later);
    await utimes(join(context, 'b.txt'), later, later);
    assert.deepEqual(ranLines((await buildIt()).stderr), [], 'mtime-only changes keep the cache');

    await writeFile(join(context, 'src', 'a.txt'), 'a2\n');
    assert.deepEqual(ranLines((await buildIt()).stderr), [6, 7], 'only the steps after the changed file run');

    assert.deepEqual(
      ranLines((await buildIt('--build-arg', 'V=2')).stderr),
      [5, 6, 7],
      'only the steps that see the arg run',
    );

    const uncached = await buildIt('--build-arg', 'V=2', '--no-cache');
    assert.equal(uncached.code, 0, uncached.stderr);
    assert.deepEqual(
      ranLines(uncached.stderr),
      [2, 3, 5, 6, 7],
      '--no-cache reruns every step, over snapshots it made before',
    );
  });

  it('gives a rebuild from cache the same image id, as BuildKit does; a changed step gets a new time, the cached ones keep theirs', async () => {
    await writeFile(join(context, 'b.txt'), 'b1\n');
    await writeFile(
      join(context, 'Dockerfile'),
      'FROM busybox\nENV A=1\nRUN echo one > /one\nLABEL l=1\nCOPY b.txt /b.txt\nCMD ["sh"]\n',
    );
    const build = async () => {
      const r = await tcbuild(['build', '-q', '-t', 'times:1', context], env());
      assert.equal(r.code, 0, r.stderr);
      const inspected = JSON.parse((await tcbuild(['inspect', 'times:1'], env())).stdout) as {
        config: { created: string; history: { created: string; created_by: string }[] };
      };
      return { id: r.stdout.trim(), config: inspected.config };
    };
    const first = await build();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const again = await build();
    assert.equal(again.id, first.id, 'a rebuild from cache a second later is the same image');
    await writeFile(join(context, 'b.txt'), 'b2\n');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const changed = await build();
    assert.notEqual(changed.id, first.id);
    const time = (c: typeof first, text: string) => c.config.history.find((h) => h.created_by.includes(text))!.created;
    assert.equal(time(changed, 'echo one'), time(first, 'echo one'), 'the cached RUN keeps its time');
    assert.ok(time(changed, 'COPY b.txt') > time(first, 'COPY b.txt'), 'the step that ran has its own, later time');
    assert.equal(changed.config.created, time(changed, 'CMD'), 'the image is as old as its last history entry');
    assert.equal(
      time(changed, 'CMD'),
      time(changed, 'COPY b.txt'),
      'an entry without a layer takes the time before it',
    );
  });

  it('reruns only the steps of the stages named by --no-cache-filter', async () => {
    await writeFile(
      join(context, 'Dockerfile'),
      'FROM busybox AS first\nRUN echo one > /one\nFROM busybox\nRUN echo two > /two\nCOPY --from=first /one /one\n',
    );
    const first = await tcbuild(['build', '--progress', 'plain', context], env());
    assert.deepEqual(ranLines(first.stderr), [2, 4, 5]);
    const filtered = await tcbuild(['build', '--progress', 'plain', '--no-cache-filter', 'first', context], env());
    assert.equal(filtered.code, 0, filtered.stderr);
    assert.deepEqual(ranLines(filtered.stderr), [2]);
  });

  it('adds --label, writes --metadata-file and --iidfile, names several -t, and prints only the digest with -q', async () => {
    await writeFile(join(context, 'Dockerfile'), 'FROM busybox\nLABEL from.dockerfile=yes\n');
    const meta = join(context, 'meta.json');
    const r = await tcbuild(
      ['build', '-q', '-t', 'one:1', '-t', 'two:2', '--label', 'from.cli=yes', '--metadata-file', meta, context],
      env(),
    );
    assert.equal(r.code, 0, r.stderr);
    const digest = r.stdout.trim();
    assert.match(digest, /^sha256:[a-f0-9]{64}$/);
    const metadata = JSON.parse(await readFile(meta, 'utf8')) as Record<string, string>;
    assert.equal(metadata['containerimage.digest'], digest);
    assert.equal(metadata['image.name'], 'docker.io/library/one:1,docker.io/library/two:2');
    const saved = join(context, 'saved.tar');
    const docker = await tcbuild(['build', '-q', '-t', 'one:1', '-o', `type=docker,dest=${saved}`, context], env());
    assert.equal(docker.code, 0, docker.stderr);
    const fromArchive = await run('skopeo', ['inspect', `docker-archive:${saved}`]);
    assert.equal(fromArchive.code, 0, fromArchive.stderr);
    assert.equal(
      (JSON.parse(fromArchive.stdout) as { Labels: Record<string, string> }).Labels['from.dockerfile'],
      'yes',
    );
    const inspected = await tcbuild(['inspect', 'two:2'], env());
    const info = JSON.parse(inspected.stdout) as {
      descriptor: { digest: string };
      config: { config: { Labels: Record<string, string> } };
    };
    assert.equal(info.descriptor.digest, digest);
    assert.deepEqual(info.config.config.Labels, { 'from.dockerfile': 'yes', 'from.cli': 'yes' });
  });

  it('streams one JSON event per line with --progress json, and builds only the --target stage', async () => {
    await writeFile(
      join(context, 'Dockerfile'),
      'FROM busybox AS wanted\nRUN echo wanted > /w\nFROM busybox AS other\nRUN exit 1\n',
    );
    const r = await tcbuild(['build', '--progress', 'json', '--target', 'wanted', context], env());
    assert.equal(r.code, 0, r.stderr);
    const events = r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { kind: string; name?: string });
    assert.ok(events.some((e) => e.kind === 'step-start' && e.name?.includes('RUN echo wanted')));
    assert.ok(!events.some((e) => e.name?.includes('exit 1')));
  });

  it('exports the final filesystem with -o type=local', async () => {
    await writeFile(
      join(context, 'Dockerfile'),
      'FROM busybox\nRUN mkdir /out && echo made > /out/file && chmod 0750 /out/file && rm /bin/vi\n',
    );
    const dest = join(context, 'rootfs');
    const r = await tcbuild(['build', '-o', `type=local,dest=${dest}`, context], env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await readFile(join(dest, 'out/file'), 'utf8'), 'made\n');
    assert.equal((await stat(join(dest, 'out/file'))).mode & 0o7777, 0o750);
    await assert.rejects(stat(join(dest, 'bin/vi')), 'a file deleted by a RUN is not exported');
  });
});
