import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { manifestAnnotate, manifestCreate, manifestInspect, manifestPush } from '../../src/api/manifest.js';
import { pushFixture } from '../../scripts/fixtures.js';
import { NEEDS_ROOT, run, tcbuild, tempRoot } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

describe('tcbuild manifest: lists of images already in a registry, pushed without moving layers', {
  skip: NEEDS_ROOT,
}, () => {
  let registry: TestRegistry;
  let root: string;
  let context: string;
  const events: string[] = [];
  const opts = () => ({
    root,
    registry: { plainHttpHosts: [registry.host], progress: { emit: (e: { kind: string }) => events.push(e.kind) } },
  });

  before(async () => {
    registry = await startRegistry();
    const base = await pushFixture(`${registry.host}/busybox:latest`);
    root = await tempRoot();
    context = await mkdtemp(join(tmpdir(), 'tcbuild-ctx-'));
    await writeFile(join(context, 'Dockerfile'), `FROM ${base}\nCOPY Dockerfile /built-from\n`);
    for (const arch of ['amd64', 'arm64']) {
      const r = await tcbuild(
        ['build', '--platform', `linux/${arch}`, '-t', `${registry.host}/app:${arch}`, '--push', context],
        { TCBUILD_ROOT: root },
      );
      assert.equal(r.code, 0, r.stderr);
    }
  });

  after(async () => {
    await registry?.stop();
    await rm(root, { recursive: true, force: true });
    await rm(context, { recursive: true, force: true });
  });

  it('creates, annotates and pushes a list that skopeo accepts, uploading no blob', async () => {
    const list = `${registry.host}/app:1`;
    await manifestCreate(list, [`${registry.host}/app:amd64`, `${registry.host}/app:arm64`], opts());
    const arm = (await manifestInspect(list, opts())).manifests.find((d) => d.platform?.architecture === 'arm64')!;
    await manifestAnnotate(list, arm.digest, { annotations: { 'org.example.note': 'arm build' } }, opts());
    events.length = 0;
    await manifestPush(list, undefined, opts());
    assert.ok(!events.includes('blob-upload'), `no layer bytes move: ${events.join(',')}`);

    const raw = await run('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${list}`]);
    assert.equal(raw.code, 0, raw.stderr);
    const index = JSON.parse(raw.stdout) as {
      manifests: { platform: { architecture: string }; annotations?: Record<string, string> }[];
    };
    assert.deepEqual(
      index.manifests.map((m) => m.platform.architecture),
      ['amd64', 'arm64'],
    );
    assert.deepEqual(index.manifests[1]!.annotations, { 'org.example.note': 'arm build' });
    assert.equal(index.manifests[0]!.annotations, undefined, 'internal source annotations are not pushed');
  });

  it('pushes the list into another repository by mounting, and works from the CLI', async () => {
    const list = `${registry.host}/app:cli`;
    const create = await tcbuild(
      ['manifest', 'create', list, `${registry.host}/app:amd64`, `${registry.host}/app:arm64`],
      { TCBUILD_ROOT: root },
    );
    assert.equal(create.code, 0, create.stderr);
    const push = await tcbuild(['manifest', 'push', list, `${registry.host}/elsewhere/app:1`], { TCBUILD_ROOT: root });
    assert.equal(push.code, 0, push.stderr);
    const copy = await run('skopeo', [
      'copy',
      '--all',
      '--src-tls-verify=false',
      `docker://${registry.host}/elsewhere/app:1`,
      `oci:${join(context, 'copied')}:x`,
    ]);
    assert.equal(copy.code, 0, copy.stderr);
    const missing = await tcbuild(['manifest', 'inspect', `${registry.host}/nothing:1`], { TCBUILD_ROOT: root });
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /no manifest list/);
  });
});
