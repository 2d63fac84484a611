import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pushFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, run, tcbuild, tempRoot } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

describe('multi-platform builds: emulated RUN, cross-compilation stages, one index', { skip: NEEDS_ROOT }, () => {
  let registry: TestRegistry;
  let root: string;
  let context: string;
  let base: string;
  const env = () => ({ TCBUILD_ROOT: root });
  const file = (...path: string[]) => readFile(join(context, 'out', ...path), 'utf8');

  before(async () => {
    const install = await tcbuild(['binfmt', '--install'], { TCBUILD_ROOT: '/nonexistent' });
    assert.equal(install.code, 0, install.stderr);
    registry = await startRegistry();
    base = await pushFixture(`${registry.host}/busybox:latest`);
    root = await tempRoot();
    context = await mkdtemp(join(tmpdir(), 'tcbuild-ctx-'));
  });

  after(async () => {
    await registry?.stop();
    await rm(root, { recursive: true, force: true });
    await rm(context, { recursive: true, force: true });
  });

  it("runs each platform's RUN under its own architecture and pushes one index that skopeo reads and copies whole", async () => {
    await writeFile(join(context, 'Dockerfile'), `FROM ${base}\nRUN uname -m > /arch\n`);
    const image = `${registry.host}/multi:1`;
    const archive = join(context, 'multi.tar');
    const r = await tcbuild(
      [
        'build',
        '--platform',
        'linux/amd64,linux/arm64',
        '-t',
        image,
        '--push',
        '-o',
        `type=local,dest=${join(context, 'out')}`,
        '-o',
        `type=oci,dest=${archive}`,
        context,
      ],
      env(),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await file('linux_amd64', 'arch'), 'x86_64\n');
    assert.equal(await file('linux_arm64', 'arch'), 'aarch64\n');
    const fromArchive = await run('skopeo', ['inspect', '--raw', `oci-archive:${archive}`]);
    assert.equal(fromArchive.code, 0, fromArchive.stderr);
    assert.equal((JSON.parse(fromArchive.stdout) as { manifests: unknown[] }).manifests.length, 2);

    const emulated = await tcbuild(['run', '--platform', 'linux/arm64', image, 'cat', '/arch'], env());
    assert.equal(emulated.code, 0, emulated.stderr);
    assert.equal(emulated.stdout, 'aarch64\n');
    const unameArm = await tcbuild(['run', '--platform', 'linux/arm64', image, 'uname', '-m'], env());
    assert.equal(unameArm.stdout, 'aarch64\n', 'tcbuild run --platform runs the arm64 image under emulation');

    const raw = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${image}`]);
    assert.equal(raw.code, 0, raw.stderr);
    const index = JSON.parse(raw.stdout) as {
      mediaType: string;
      manifests: { platform: { architecture: string; variant?: string } }[];
    };
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(
      index.manifests.map((m) => m.platform.architecture),
      ['amd64', 'arm64'],
    );
    const copy = await run('skopeo', [
      'copy',
      '--all',
      '--src-tls-verify=false',
      `docker://${image}`,
      `oci:${join(context, 'copied')}:all`,
    ]);
    assert.equal(copy.code, 0, copy.stderr);
    await rm(join(context, 'out'), { recursive: true });
  });

  it('runs $BUILDPLATFORM stages natively, once per distinct stage, sharing them between targets', async () => {
    await writeFile(
      join(context, 'Dockerfile'),
      [
        `FROM --platform=$BUILDPLATFORM ${base} AS build`,
        'ARG TARGETARCH',
        'RUN echo $TARGETARCH > /target && uname -m > /ran-on',
        `FROM --platform=$BUILDPLATFORM ${base} AS shared`,
        'RUN uname -m > /shared && cat /proc/sys/kernel/random/uuid > /stamp',
        `FROM ${base}`,
        'COPY --from=build /target /ran-on /',
        'COPY --from=shared /shared /stamp /',
        '',
      ].join('\n'),
    );
    const r = await tcbuild(
      [
        'build',
        '--progress',
        'plain',
        '--platform',
        'linux/amd64,linux/arm64',
        '-o',
        `type=local,dest=${join(context, 'out')}`,
        context,
      ],
      env(),
    );
    assert.equal(r.code, 0, r.stderr);
    for (const [dir, arch] of [
      ['linux_amd64', 'amd64'],
      ['linux_arm64', 'arm64'],
    ] as const) {
      assert.equal(await file(dir, 'target'), `${arch}\n`);
      assert.equal(await file(dir, 'ran-on'), 'x86_64\n', 'the build stage never runs under emulation');
      assert.equal(await file(dir, 'shared'), 'x86_64\n');
    }
    assert.equal(await file('linux_amd64', 'stamp'), await file('linux_arm64', 'stamp'), 'the shared stage ran once');
    assert.equal((r.stderr.match(/RUN uname -m > \/shared/g) ?? []).length, 1);
    await rm(join(context, 'out'), { recursive: true });
  });

  it('names the platforms a base image has when asked for one it lacks', async () => {
    await writeFile(join(context, 'Dockerfile'), `FROM ${base}\n`);
    const r = await tcbuild(['build', '--platform', 'linux/s390x', context], env());
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Dockerfile:1: .*linux\/s390x.*linux\/amd64, linux\/arm64/);
  });

  it('fails before any work for a platform nothing can emulate, and says how to fix it', async () => {
    await writeFile(join(context, 'Dockerfile'), 'FROM scratch\nRUN true\n');
    const r = await tcbuild(['build', '--progress', 'plain', '--platform', 'linux/sparc64', context], env());
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot run linux\/sparc64 programs on this linux\/amd64 host/);
    assert.match(r.stderr, /tcbuild binfmt --install/);
    assert.doesNotMatch(r.stderr, /^#1 /m);
  });
});
