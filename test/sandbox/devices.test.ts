// Device nodes in the image or made by mknod: only Docker's default devices
// open. Run with the host's default device control and with the cgroup v2
// device program alone (TCBUILD_DEVICE_CGROUP=v2), which on a hybrid host
// would otherwise hide behind the v1 devices controller.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Cgroup } from '../../src/sandbox/cgroup/cgroup.js';
import { cgroupHierarchy } from '../../src/sandbox/cgroup/hierarchy.js';
import { buildSpec } from '../../src/sandbox/spec.js';
import type { ContainerRequest } from '../../src/sandbox/index.js';
import { DENIED_NODES, hostDisk } from './device-nodes.js';
import { run } from './harness.js';
import { compileProbe } from './probes.js';
import { busyboxOverlayPerTest, skipUnlessRoot } from './rootfs.js';

/** Docker's allowed devices, shipped as nodes in the layer too: [name, type, major, minor]. */
const ALLOWED_NODES: [string, 'c', number, number][] = [
  ['null', 'c', 1, 3],
  ['zero', 'c', 1, 5],
  ['full', 'c', 1, 7],
  ['random', 'c', 1, 8],
  ['urandom', 'c', 1, 9],
  ['tty', 'c', 5, 0],
  ['console', 'c', 5, 1],
  ['ptmx', 'c', 5, 2],
  ['pts0', 'c', 136, 0],
  ['tun', 'c', 10, 200],
];

/** devopen's lines, with every error but EPERM (the device cgroup's answer) shown as "passed". */
const verdicts = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((line) => line.replace(/ (E(?!PERM\b)[A-Z]+)$/, ' passed ($1)'));

const hierarchy = cgroupHierarchy();
const hasV2Dir = hierarchy?.version === 2 || (hierarchy?.version === 1 && hierarchy.unified !== undefined);

for (const mode of ['default', 'v2'] as const) {
  const skip =
    skipUnlessRoot || (mode === 'v2' && !hasV2Dir ? 'no cgroup v2 directory to attach the device program to' : false);
  describe(`device access (${mode === 'v2' ? 'cgroup v2 device program alone' : "the host's device control"})`, {
    skip,
  }, () => {
    const fx = busyboxOverlayPerTest();
    before(() => {
      if (mode === 'v2') process.env.TCBUILD_DEVICE_CGROUP = 'v2';
      compileProbe('devopen', join(fx.lower, 'bin', 'devopen'));
      mkdirSync(join(fx.lower, 'devs'));
      for (const [name, type, major, minor] of [...DENIED_NODES, ...ALLOWED_NODES]) {
        execFileSync('mknod', [join(fx.lower, 'devs', name), type, String(major), String(minor)]);
      }
    });
    after(() => {
      delete process.env.TCBUILD_DEVICE_CGROUP;
    });

    if (mode === 'v2') {
      test('the sandbox gets a v2 cgroup with the program, and no v1 devices cgroup', async () => {
        const cgroup = Cgroup.create(`${process.pid}-devices-test`, { pidsLimit: 16 })!;
        try {
          assert.equal(cgroup.limitsDevices, true);
          assert.deepEqual(
            cgroup.procs.filter((p) => /\/devices\//.test(p)),
            [],
          );
          const v2 = hierarchy!.version === 2 ? hierarchy!.parent : hierarchy!.version === 1 ? hierarchy!.unified! : '';
          assert.ok(
            cgroup.procs.some((p) => p.startsWith(`${v2}/`)),
            cgroup.procs.join(' '),
          );
        } finally {
          await cgroup.remove();
        }
      });
    }

    test("device nodes from the layer other than Docker's cannot be opened: EPERM for reading, writing or both", async () => {
      const args = DENIED_NODES.flatMap(([name]) => ['r', 'w', 'rw'].map((m) => `${m}:/devs/${name}`));
      const { stdout, stderr } = await run(fx.overlay, `devopen ${args.join(' ')}`);
      assert.deepEqual(
        verdicts(stdout),
        args.map((a) => `${a.slice(a.indexOf(':') + 1)} ${a.slice(0, a.indexOf(':'))} EPERM`),
        stderr,
      );
    });

    test('mknod in the container works (as in Docker); opening what it made fails with EPERM', async () => {
      const [major, minor] = hostDisk();
      const { stdout, stderr } = await run(
        fx.overlay,
        `mknod /mem c 1 1 && mknod /disk b ${major} ${minor} && mknod /loop b 7 0 && mkdir -p /var/tmp && mknod /var/tmp/kmsg c 1 11 && echo made; ` +
          'devopen r:/mem w:/mem r:/disk rw:/disk r:/loop r:/var/tmp/kmsg; cat /mem 2>&1 | head -1; dd if=/disk of=/dev/null count=1 2>&1 | head -1',
      );
      assert.deepEqual(
        stdout.trim().split('\n'),
        [
          'made',
          '/mem r EPERM',
          '/mem w EPERM',
          '/disk r EPERM',
          '/disk rw EPERM',
          '/loop r EPERM',
          '/var/tmp/kmsg r EPERM',
          "cat: can't open '/mem': Operation not permitted",
          "dd: can't open '/disk': Operation not permitted",
        ],
        stderr,
      );
    });

    test("Docker's devices open: the sandbox's /dev, a pty of its devpts, and those numbers shipped in the layer", async () => {
      const own = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/ptmx', '/dev/pts/ptmx'];
      const { stdout, stderr } = await run(
        fx.overlay,
        `devopen ${own.map((p) => `rw:${p}`).join(' ')} rw:/dev/tty pty ${ALLOWED_NODES.map(([name]) => `r:/devs/${name}`).join(' ')}; ` +
          'head -c 4 /dev/urandom | wc -c; echo hi > /dev/null && echo written',
      );
      const lines = verdicts(stdout);
      assert.deepEqual(
        lines.slice(0, own.length + 2),
        [
          ...own.map((p) => `${p} rw ok`),
          '/dev/tty rw passed (ENXIO)', // allowed, but there is no controlling terminal
          'pty /dev/pts/0 ok',
        ],
        stderr,
      );
      // Whether a node outside its own file system opens (ptmx, a pty) or exists (tun) is the driver's business; the cgroup passes them all.
      const shipped = lines.slice(own.length + 2, -2);
      assert.deepEqual(
        shipped.map((l) => l.split(' ')[0]),
        ALLOWED_NODES.map(([name]) => `/devs/${name}`),
        stdout,
      );
      for (const line of shipped) assert.match(line, /^\S+ r (ok|passed \(E[A-Z]+\))$/);
      assert.deepEqual(
        shipped.slice(0, 5),
        ['null', 'zero', 'full', 'random', 'urandom'].map((name) => `/devs/${name} r ok`),
      );
      assert.deepEqual(lines.slice(-2), ['4', 'written']);
    });
  });
}

describe('where nothing limits device access (bpf(2) refused, no v1 devices controller)', () => {
  const req: ContainerRequest = {
    rootfs: [
      { type: 'overlay', source: 'overlay', destination: '/', options: ['lowerdir=/l', 'upperdir=/u', 'workdir=/w'] },
    ],
    mountpoint: '/mnt',
    args: ['true'],
    env: [],
    cwd: '/',
    user: { uid: 0, gid: 0, additionalGids: [] },
    hostname: 'x',
    network: 'none',
    mounts: [{ type: 'bind', source: '/stage', destination: '/src', options: ['rbind', 'ro'] }],
  };
  const etc = { hosts: '/h', resolvConf: '/r', hostname: '/n' };

  test('no device node can be made, and none on the image or a mount opened: no CAP_MKNOD, nodev', () => {
    const spec = buildSpec(req, etc, { procs: [], limitsDevices: false });
    assert.ok(!spec.process.capabilities.bounding.includes('CAP_MKNOD'));
    assert.ok(!spec.process.capabilities.effective.includes('CAP_MKNOD'));
    assert.deepEqual(spec.rootfsMounts[0]!.options, ['lowerdir=/l', 'upperdir=/u', 'workdir=/w', 'nodev']);
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/src')!.options, ['rbind', 'ro', 'nodev']);
    assert.ok(
      !spec.mounts.find((m) => m.destination === '/dev')!.options.includes('nodev'),
      "the sandbox's own /dev keeps its devices",
    );
  });

  test('with device control the image and mounts are as Docker mounts them, and CAP_MKNOD stays', () => {
    const spec = buildSpec(req, etc, { procs: [], limitsDevices: true });
    assert.ok(spec.process.capabilities.bounding.includes('CAP_MKNOD'));
    assert.deepEqual(spec.rootfsMounts, req.rootfs);
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/src')!.options, ['rbind', 'ro']);
  });
});
