import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { NEEDS_ROOT, tcbuild } from '../helpers/cli.js';
import { useBusyboxRoot } from './busybox-root.js';

describe('tcbuild build --compression and --snapshotter', { skip: NEEDS_ROOT }, () => {
  const store = useBusyboxRoot();
  const env = () => store.env();
  before(() => writeFile(join(store.context, 'Dockerfile'), 'FROM busybox\nRUN echo hello > /hello && rm /bin/true\n'));

  const layersOf = async (name: string): Promise<Array<{ mediaType: string }>> => {
    const r = await tcbuild(['inspect', name], env());
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { manifest: { layers: Array<{ mediaType: string }> } }).manifest.layers;
  };

  it('--compression zstd makes a zstd layer that a zstd build can start FROM', async () => {
    const r = await tcbuild(
      ['build', '--compression', 'zstd', '--compression-level', '19', '-t', 'z:1', store.context],
      env(),
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await layersOf('z:1')).at(-1)?.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
    await writeFile(join(store.context, 'Dockerfile.on-zstd'), 'FROM z:1\nRUN cat /hello\n');
    const on = await tcbuild(
      [
        'build',
        '--snapshotter',
        'native',
        '--progress',
        'plain',
        '-f',
        join(store.context, 'Dockerfile.on-zstd'),
        store.context,
      ],
      env(),
    );
    assert.equal(on.code, 0, on.stderr);
    assert.match(on.stderr, /hello/);
  });

  it('--snapshotter native builds the same RUN, and bad values are refused', async () => {
    const r = await tcbuild(['build', '--snapshotter', 'native', '-t', 'n:1', store.context], env());
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await layersOf('n:1')).at(-1)?.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    const bad = await tcbuild(['build', '--compression', 'lz4', store.context], env());
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /unknown compression "lz4": expected gzip, zstd, none/);
    const level = await tcbuild(['build', '--compression-level', '12', store.context], env());
    assert.match(level.stderr, /gzip compression level must be 0-9, not 12/);
  });
});
