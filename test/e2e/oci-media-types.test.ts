// An image built on a Docker-format base is a valid OCI image: the inherited layer descriptors
// take the OCI media types, as BuildKit writes them.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, run, tcbuild, tempRoot } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { unpackFromRegistry } from '../helpers/unpack.js';

describe('a build on a Docker schema 2 base', { skip: NEEDS_ROOT }, () => {
  let registry: TestRegistry;
  let root = '';
  let work = '';
  const cli = (args: string[], input?: string) => tcbuild(args, { TCBUILD_ROOT: root }, input);

  before(async () => {
    registry = await startRegistry({});
    root = await tempRoot();
    work = await mkdtemp(join(tmpdir(), 'tcbuild-mediatypes-'));
    await loadFixture('busybox:latest', root);
    assert.equal((await cli(['push', 'busybox', `${registry.host}/base/bb:oci`])).code, 0);
    const v2s2 = await run('skopeo', [
      'copy',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--format',
      'v2s2',
      `docker://${registry.host}/base/bb:oci`,
      `docker://${registry.host}/base/bb:v2s2`,
    ]);
    assert.equal(v2s2.code, 0, v2s2.stderr);
  });
  after(async () => {
    await registry?.stop();
    for (const dir of [root, work]) if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes OCI layer media types for the base layers, so umoci unpacks it', async () => {
    const built = await cli(
      ['build', '--pull', '-t', `${registry.host}/app/on-docker:1`, '--push', '-'],
      `FROM ${registry.host}/base/bb:v2s2\nRUN echo built > /built.txt\n`,
    );
    assert.equal(built.code, 0, built.stderr);
    const manifest = JSON.parse(
      (await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${registry.host}/app/on-docker:1`]))
        .stdout,
    ) as { mediaType: string; layers: { mediaType: string }[] };
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(
      [...new Set(manifest.layers.map((l) => l.mediaType))],
      ['application/vnd.oci.image.layer.v1.tar+gzip'],
    );
    const { rootfs } = await unpackFromRegistry(`${registry.host}/app/on-docker:1`, work);
    assert.equal(await readFile(join(rootfs, 'built.txt'), 'utf8'), 'built\n');
  });
});
