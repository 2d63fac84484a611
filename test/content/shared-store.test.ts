// Builds, pulls and prunes at once on one store, through bin/tcbuild: every build and pull
// succeeds, and afterwards every blob is intact, every named image whole, and every cache record's
// snapshot and layer present.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { loadFixture } from '../../scripts/fixtures.js';
import { digestHex } from '../../src/image/digest.js';
import { NEEDS_ROOT, tcbuild, tempRoot, type RunResult } from '../helpers/cli.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';

const BUILDERS = 3;
const BUILDS_EACH = 4;
const PULLS = 6;

function assertOk(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what}: ${r.stderr}`);
}

describe('concurrent builds, pulls and prunes on one store', { skip: NEEDS_ROOT }, () => {
  let root: string;
  let work: string;
  let registry: TestRegistry;
  let pulled: string;
  const env = () => ({ TCBUILD_ROOT: root });

  before(async () => {
    root = await tempRoot();
    work = await mkdtemp(join(tmpdir(), 'tcbuild-shared-'));
    registry = await startRegistry();
    await loadFixture('busybox:latest', root);
    // An image only the registry has (its own layer), for the pulls to write into the store.
    const pushed = join(work, 'pushed');
    await mkdir(pushed);
    await writeFile(join(pushed, 'Dockerfile'), 'FROM busybox\nRUN head -c 300000 /dev/urandom > /pulled\n');
    pulled = `${registry.host}/shared/pulled:1`;
    assertOk(await tcbuild(['build', '-t', pulled, '--push', pushed], env()), 'pushing the image to pull');
    assertOk(await tcbuild(['rmi', pulled], env()), 'unnaming it');
    assertOk(await tcbuild(['prune', '--all'], env()), 'pruning its blobs away');
    for (let b = 0; b < BUILDERS; b++) {
      const context = join(work, `context-${b}`);
      await mkdir(context);
      await writeFile(join(context, 'file'), `builder ${b}\n`);
      await writeFile(
        join(context, 'Dockerfile'),
        `FROM busybox\nRUN echo ${b} > /n && head -c 200000 /dev/urandom > /noise\nCOPY file /file\nRUN cat /n /file > /out\n`,
      );
    }
  });

  after(async () => {
    await registry?.stop();
    await rm(root, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  });

  it('every build and pull succeeds; afterwards check passes and nothing named or cached misses a blob or snapshot', async () => {
    let running = true;
    const failures: string[] = [];
    const note = (what: string, r: RunResult) => {
      if (r.code !== 0) failures.push(`${what}: ${r.stderr.trim()}`);
    };
    const builders = Array.from({ length: BUILDERS }, async (_, b) => {
      for (let i = 0; i < BUILDS_EACH; i++) {
        note(
          `build ${b}.${i}`,
          await tcbuild(['build', '-q', '-t', `shared/built-${b}:${i}`, join(work, `context-${b}`)], env()),
        );
      }
    });
    const puller = (async () => {
      for (let i = 0; i < PULLS; i++) {
        note(`pull ${i}`, await tcbuild(['pull', '-q', pulled], env()));
        if (i < PULLS - 1) note(`rmi ${i}`, await tcbuild(['rmi', pulled], env()));
      }
    })();
    let prunes = 0;
    const pruner = (async () => {
      while (running) note(`prune ${prunes}`, await tcbuild(['prune', ...(prunes++ % 2 ? ['--all'] : [])], env()));
    })();
    await Promise.all([...builders, puller]);
    running = false;
    await pruner;
    assert.deepEqual(failures, []);
    assert.ok(prunes >= 2, `prune ran while the others did (${prunes} times)`);

    const check = await tcbuild(['check'], env());
    assertOk(check, 'check');
    assert.match(check.stdout, /^\d+ blobs verified$/m);
    const names = [
      pulled,
      ...Array.from({ length: BUILDERS }, (_, b) =>
        Array.from({ length: BUILDS_EACH }, (_, i) => `shared/built-${b}:${i}`),
      ).flat(),
    ];
    for (const name of names)
      assertOk(
        await tcbuild(['save', '-o', join(work, 'saved.tar'), name], env()),
        `every blob of ${name} is in the store`,
      );
    const out = await tcbuild(['run', '--rm', `shared/built-1:${BUILDS_EACH - 1}`, 'cat', '/out'], env());
    assertOk(out, 'running a built image');
    assert.equal(out.stdout, '1\nbuilder 1\n');

    const committed = new Set<string>();
    for (const dir of ['snapshots', 'native-snapshots']) {
      const metadata = await readFile(join(root, dir, 'metadata.json'), 'utf8').catch(() => '{"snapshots":[]}');
      for (const s of (JSON.parse(metadata) as { snapshots: Array<{ key: string; kind: string }> }).snapshots)
        if (s.kind === 'committed') committed.add(s.key);
    }
    const blobs = new Set(await readdir(join(root, 'blobs', 'sha256')));
    for (const name of await readdir(join(root, 'cache'))) {
      const record = JSON.parse(await readFile(join(root, 'cache', name), 'utf8')) as {
        snapshot: string;
        layer: { descriptor: { digest: string } };
      };
      assert.ok(committed.has(record.snapshot), `cache record ${name}: its snapshot ${record.snapshot} is there`);
      assert.ok(
        blobs.has(digestHex(record.layer.descriptor.digest as `sha256:${string}`)),
        `cache record ${name}: its layer is there`,
      );
    }
  });
});
