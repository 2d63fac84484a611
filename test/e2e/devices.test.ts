// Device nodes through bin/tcbuild: a base image (loaded from a docker-archive)
// whose layer ships /dev/mem, kmem, a loop device and the host's disk, a RUN that mknods more, and
// `tcbuild run` of that image. Only Docker's default devices open — also with
// the cgroup v2 device program alone (TCBUILD_DEVICE_CGROUP=v2).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { loadFixture } from '../../scripts/fixtures.js';
import { cgroupHierarchy } from '../../src/sandbox/cgroup/hierarchy.js';
import { NEEDS_ROOT, tcbuild, tempRoot } from '../helpers/cli.js';
import { busyboxWithLayer } from '../helpers/layered-base.js';
import { DENIED_NODES, hostDisk } from '../sandbox/device-nodes.js';

const PROBE = fileURLToPath(new URL('../../../test/sandbox/probes/devopen.c', import.meta.url));
const hierarchy = cgroupHierarchy();
const hasV2Dir = hierarchy?.version === 2 || (hierarchy?.version === 1 && hierarchy.unified !== undefined);

const denied = DENIED_NODES.map(([name]) => `r:/devs/${name}`);
const DENIED_LINES = DENIED_NODES.map(([name]) => `/devs/${name} r EPERM`);
const [diskMajor, diskMinor] = hostDisk();
const MADE = `mknod /made-mem c 1 1 && mknod /made-disk b ${diskMajor} ${diskMinor} && echo made`;
const MADE_LINES = ['made', '/made-mem rw EPERM', '/made-disk r EPERM'];
const USABLE = 'rw:/dev/null rw:/dev/zero rw:/dev/urandom rw:/dev/ptmx pty';
const USABLE_LINES = [
  '/dev/null rw ok',
  '/dev/zero rw ok',
  '/dev/urandom rw ok',
  '/dev/ptmx rw ok',
  'pty /dev/pts/0 ok',
];
const PROBES = `devopen ${denied.join(' ')}; ${MADE}; devopen rw:/made-mem r:/made-disk ${USABLE}`;

/** busybox plus a layer as a hostile registry could serve it: the DENIED_NODES under /devs, and the devopen probe. Tagged devbase:latest. */
async function imageWithDeviceLayer(dir: string): Promise<string> {
  const staging = join(dir, 'staging');
  await mkdir(join(staging, 'devs'), { recursive: true });
  await mkdir(join(staging, 'bin'));
  for (const [name, type, major, minor] of DENIED_NODES)
    execFileSync('mknod', [join(staging, 'devs', name), type, String(major), String(minor)]);
  execFileSync('gcc', ['-static', '-O1', '-o', join(staging, 'bin', 'devopen'), PROBE]);
  return busyboxWithLayer({
    root,
    dir,
    staging,
    paths: ['devs', 'bin/devopen'],
    tag: 'devbase:latest',
    createdBy: 'device nodes from a hostile base image',
  });
}

let root: string;

describe('device nodes in images and RUN steps, through bin/tcbuild', { skip: NEEDS_ROOT }, () => {
  let context: string;
  const env = (mode: string) => ({ TCBUILD_ROOT: root, ...(mode === 'v2' ? { TCBUILD_DEVICE_CGROUP: 'v2' } : {}) });

  before(async () => {
    root = await tempRoot();
    await loadFixture('busybox:latest', root);
    context = await mkdtemp(join(tmpdir(), 'tcbuild-devices-ctx-'));
    await chmod(context, 0o755);
    const load = await tcbuild(['load', '-i', await imageWithDeviceLayer(context)], env('default'));
    assert.equal(load.code, 0, load.stderr);
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(context, { recursive: true, force: true });
  });

  it('an unknown TCBUILD_DEVICE_CGROUP is refused with one paragraph that names it', async () => {
    const r = await tcbuild(['run', '--rm', 'devbase', 'true'], { TCBUILD_ROOT: root, TCBUILD_DEVICE_CGROUP: 'v1' });
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^error: TCBUILD_DEVICE_CGROUP is "v1": it takes "v2" .*\nhint: unset TCBUILD_DEVICE_CGROUP, or set it to v2\n$/,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  for (const mode of ['default', 'v2'] as const) {
    const skip = mode === 'v2' && !hasV2Dir ? 'no cgroup v2 directory to attach the device program to' : false;
    const label = mode === 'v2' ? ' (TCBUILD_DEVICE_CGROUP=v2)' : '';

    it(`a RUN cannot open the base layer's device nodes nor those it mknods; /dev/null and ptys work${label}`, {
      skip,
    }, async () => {
      const dockerfile = join(context, `Dockerfile.${mode}`);
      await writeFile(
        dockerfile,
        `FROM devbase AS probe\nRUN { ${PROBES}; } > /report.txt\nFROM scratch\nCOPY --from=probe /report.txt /\n`,
      );
      const out = join(context, `out-${mode}`);
      const r = await tcbuild(
        ['build', '--progress', 'plain', '--no-cache', '-f', dockerfile, '-o', `type=local,dest=${out}`, context],
        env(mode),
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual((await readFile(join(out, 'report.txt'), 'utf8')).trim().split('\n'), [
        ...DENIED_LINES,
        ...MADE_LINES,
        ...USABLE_LINES,
      ]);
    });

    it(`tcbuild run of that image: the same${label}`, { skip }, async () => {
      const r = await tcbuild(['run', '--rm', 'devbase', 'sh', '-c', PROBES], env(mode));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), [...DENIED_LINES, ...MADE_LINES, ...USABLE_LINES]);
    });
  }
});
