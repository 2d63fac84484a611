// Docker's default seccomp profile inside the sandbox: the probe set natively (with and without
// no_new_privs, which moves where the filter is loaded) and as the other architecture's program
// under qemu-user, whose pass-through calls meet the host's filter.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';

import { installEmulators } from '../../src/sandbox/binfmt.js';
import { run } from './harness.js';
import { compileProbe, FOREIGN_ARCH, noForeignProbes, type ProbeArch } from './probes.js';
import { busyboxOverlayPerTest, skipUnlessRoot } from './rootfs.js';
import { assertSeccompProbe } from './seccomp-probe.js';

const HOST_ARCH = process.arch as ProbeArch;

describe('the seccomp filter in the sandbox', { skip: skipUnlessRoot }, () => {
  const fx = busyboxOverlayPerTest();
  before(() => compileProbe('syscalls', join(fx.lower, 'bin', 'syscalls')));

  for (const noNewPrivileges of [false, true]) {
    test(`refuses what Docker's profile refuses and allows the rest (no_new_privs ${noNewPrivileges ? 'on' : 'off'})`, async () => {
      const { stdout, stderr, result } = await run(fx.overlay, 'syscalls', { noNewPrivileges });
      assert.deepEqual(result, { exitCode: 0, signal: null }, stderr);
      assertSeccompProbe(stdout, { arch: HOST_ARCH, emulated: false });
    });
  }

  test("busybox's mount and unshare are refused", async () => {
    const { stderr } = await run(fx.overlay, 'mount -t tmpfs none /mnt; unshare -U true; unshare -n true');
    assert.match(stderr, /mount: permission denied/);
    assert.match(stderr, /unshare\(0x10000000\): Operation not permitted/);
    assert.match(stderr, /unshare\(0x40000000\): Operation not permitted/);
  });

  test(`an emulated ${FOREIGN_ARCH} program meets the host's filter where qemu passes its calls on`, {
    skip: noForeignProbes,
  }, async () => {
    await installEmulators();
    compileProbe('syscalls', join(fx.lower, 'bin', 'syscalls-foreign'), FOREIGN_ARCH);
    const { stdout, stderr, result } = await run(fx.overlay, 'syscalls-foreign');
    assert.deepEqual(result, { exitCode: 0, signal: null }, stderr);
    assertSeccompProbe(stdout, { arch: FOREIGN_ARCH, emulated: true });
  });
});
