// Docker's default privileges: capabilities, no_new_privs, masked
// and read-only paths, devices (the seccomp filter has seccomp.test.ts).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { run } from './harness.js';
import { busyboxOverlayPerTest, GROUP, PASSWD, skipUnlessRoot } from './rootfs.js';
import { resolveUser } from '../../src/sandbox/index.js';

describe('container privileges', { skip: skipUnlessRoot }, () => {
  const fx = busyboxOverlayPerTest();

  const status = async (fields: string, overrides = {}) =>
    (await run(fx.overlay, `grep -E "^(${fields}):" /proc/self/status | tr -d "\\t"`, overrides)).stdout
      .trim()
      .split('\n');

  test("root gets Docker's 14 capabilities, none inheritable or ambient; seccomp filters; no_new_privs is off", async () => {
    assert.deepEqual(await status('CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp'), [
      'CapInh:0000000000000000',
      'CapPrm:00000000a80425fb',
      'CapEff:00000000a80425fb',
      'CapBnd:00000000a80425fb',
      'CapAmb:0000000000000000',
      'NoNewPrivs:0',
      'Seccomp:2',
    ]);
  });

  test('a non-root user has no effective capabilities, the same bounding set; no_new_privs on request', async () => {
    const user = resolveUser('app', PASSWD, GROUP);
    assert.deepEqual(await status('CapEff|CapBnd|NoNewPrivs', { user, noNewPrivileges: true }), [
      'CapEff:0000000000000000',
      'CapBnd:00000000a80425fb',
      'NoNewPrivs:1',
    ]);
  });

  test("init's /proc/1 entries are out of reach", async () => {
    const { stdout } = await run(
      fx.overlay,
      'ls /proc/1/root >/dev/null 2>&1 || echo root denied; cat /proc/1/environ 2>/dev/null || echo environ denied',
    );
    assert.equal(stdout, 'root denied\nenviron denied\n');
  });

  test('masked paths read empty or are empty directories; read-only paths refuse writes', async () => {
    const { stdout } = await run(
      fx.overlay,
      [
        'for f in /proc/keys /proc/timer_list /proc/sched_debug /proc/interrupts; do [ -e $f ] && echo "$f $(wc -c < $f)"; done',
        'for d in /proc/acpi /proc/scsi /sys/firmware; do [ -d $d ] && echo "$d $(ls -A $d | wc -l)"; done',
        'touch /sys/firmware/x 2>/dev/null || echo firmware read-only',
        'echo 1 > /proc/sys/kernel/ostype 2>/dev/null || echo proc-sys read-only',
        'echo b > /proc/sysrq-trigger 2>/dev/null || echo sysrq read-only',
      ].join('; '),
    );
    for (const line of stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('/')))
      assert.match(line, / 0$/, line);
    assert.match(stdout, /\/proc\/keys 0\n/);
    assert.match(stdout, /firmware read-only\nproc-sys read-only\nsysrq read-only\n$/);
  });

  test('a block device made with mknod cannot be read', async () => {
    const { stdout } = await run(
      fx.overlay,
      'mknod /disk b 7 0 && echo made; head -c 1 /disk >/dev/null 2>&1 || echo unreadable',
    );
    assert.match(stdout, /unreadable\n$/);
  });

  test('/dev/null and friends stay usable', async () => {
    const { result } = await run(
      fx.overlay,
      'echo x > /dev/null && head -c 1 /dev/urandom >/dev/null && head -c 1 /dev/zero >/dev/null',
    );
    assert.deepEqual(result, { exitCode: 0, signal: null });
  });
});
