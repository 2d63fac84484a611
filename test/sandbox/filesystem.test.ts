// The container's filesystem: the overlay, the working directory, the
// standard mounts, and that nothing touches the host.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';

import { ContainerSetupError } from '../../src/sandbox/index.js';
import { mountinfo, run } from './harness.js';
import { busyboxOverlayPerTest, listDir, makeBusyboxRootfs, skipUnlessRoot } from './rootfs.js';

describe('container filesystem', { skip: skipUnlessRoot }, () => {
  const fx = busyboxOverlayPerTest();

  test('files written land in the upper dir, and nothing stays mounted on the host', async () => {
    const before = await mountinfo();
    const { result } = await run(fx.overlay, 'echo hello > /created.txt && touch /bin/new-tool');
    assert.deepEqual(result, { exitCode: 0, signal: null });
    assert.equal(await readFile(join(fx.overlay.upper, 'created.txt'), 'utf8'), 'hello\n');
    assert.ok(await stat(join(fx.overlay.upper, 'bin', 'new-tool')));
    assert.deepEqual(await listDir(join(fx.lower, 'created.txt')), []);
    await assert.rejects(stat(join(fx.lower, 'created.txt')), { code: 'ENOENT' });
    assert.equal(await mountinfo(), before);
    assert.deepEqual(await listDir(fx.overlay.mountpoint), []);
  });

  test('a bind mount works as the root filesystem too, and is written to directly', async () => {
    const rootfs = await makeBusyboxRootfs(); // not `fx.lower`: the container writes into it
    try {
      const { stdout } = await run(fx.overlay, 'head -n1 /etc/passwd; echo hi > /hello', {
        rootfs: [{ type: 'bind', source: rootfs, destination: '/', options: ['rbind', 'rw'] }],
      });
      assert.equal(stdout, 'root:x:0:0:root:/root:/bin/sh\n');
      assert.equal(await readFile(join(rootfs, 'hello'), 'utf8'), 'hi\n');
    } finally {
      await rm(rootfs, { recursive: true, force: true });
    }
  });

  test('the working directory is created (0755) and used', async () => {
    const { stdout } = await run(fx.overlay, 'pwd; stat -c %a .', { cwd: '/work/deep/dir' });
    assert.equal(stdout, '/work/deep/dir\n755\n');
    assert.ok((await stat(join(fx.overlay.upper, 'work', 'deep', 'dir'))).isDirectory());
  });

  test('/proc, /dev, /sys and friends are mounted as in docker', async () => {
    const { stdout } = await run(fx.overlay, 'cat /proc/self/mounts');
    const mounts = new Map(
      stdout
        .trim()
        .split('\n')
        .map((line) => line.split(' '))
        .map(([, target, type, options]) => [target, `${type} ${options}`]),
    );
    assert.match(mounts.get('/proc') ?? '', /^proc .*nosuid,nodev,noexec/);
    assert.match(mounts.get('/dev') ?? '', /^tmpfs .*nosuid.*mode=755/);
    assert.match(mounts.get('/dev/pts') ?? '', /^devpts .*gid=5,mode=620,ptmxmode=666/);
    assert.match(mounts.get('/dev/shm') ?? '', /^tmpfs .*nosuid,nodev,noexec.*size=65536k/);
    assert.match(mounts.get('/dev/mqueue') ?? '', /^mqueue /);
    assert.match(mounts.get('/sys') ?? '', /^sysfs ro,/);
    for (const file of ['/etc/hosts', '/etc/resolv.conf', '/etc/hostname'])
      assert.match(mounts.get(file) ?? '', / ro,/);
  });

  test('/dev has the standard devices and symlinks', async () => {
    const { stdout } = await run(
      fx.overlay,
      'for f in null zero full random urandom tty; do stat -c "%n %F %t,%T %a" /dev/$f; done; for l in ptmx fd stdin; do readlink /dev/$l; done; echo x > /dev/null; head -c 4 /dev/zero | wc -c',
    );
    assert.equal(
      stdout,
      [
        '/dev/null character special file 1,3 666',
        '/dev/zero character special file 1,5 666',
        '/dev/full character special file 1,7 666',
        '/dev/random character special file 1,8 666',
        '/dev/urandom character special file 1,9 666',
        '/dev/tty character special file 5,0 666',
        'pts/ptmx',
        '/proc/self/fd',
        '/proc/self/fd/0',
        '4',
        '',
      ].join('\n'),
    );
  });

  test("/etc/resolv.conf has the host's content; missing /etc files are created as mount points", async () => {
    const { stdout } = await run(fx.overlay, 'cat /etc/resolv.conf');
    assert.equal(stdout, await readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
    assert.deepEqual(await listDir(join(fx.overlay.upper, 'etc')), ['hostname', 'hosts', 'resolv.conf']);
  });

  test('a rootfs whose /dev, /proc and /etc/hosts are symlinks to host paths leaves those paths alone', async () => {
    const hostDir = await mkdtemp(join(tmpdir(), 'tcbuild-host-'));
    const hostDev = join(hostDir, 'dev');
    const hostProc = join(hostDir, 'proc');
    const hostHosts = join(hostDir, 'hosts');
    try {
      await mkdir(hostDev);
      await mkdir(hostProc);
      await writeFile(hostHosts, 'host file\n');
      await symlink(hostDev, join(fx.overlay.upper, 'dev'));
      await symlink(hostProc, join(fx.overlay.upper, 'proc'));
      await mkdir(join(fx.overlay.upper, 'etc'));
      await symlink(hostHosts, join(fx.overlay.upper, 'etc', 'hosts'));
      const before = await mountinfo();
      const { result, stdout } = await run(fx.overlay, 'readlink /dev; ls /dev/null; grep -c sandbox-test /etc/hosts');
      assert.deepEqual(result, { exitCode: 0, signal: null });
      assert.equal(stdout, `${hostDev}\n/dev/null\n1\n`);
      assert.deepEqual(await listDir(hostDev), []);
      assert.deepEqual(await listDir(hostProc), []);
      assert.equal(await readFile(hostHosts, 'utf8'), 'host file\n');
      assert.equal(await mountinfo(), before);
      // What the container saw at those paths was made inside the root filesystem.
      assert.ok((await stat(join(fx.overlay.upper, hostDev))).isDirectory());
      assert.ok((await stat(join(fx.overlay.upper, hostHosts))).isFile());
    } finally {
      await rm(hostDir, { recursive: true, force: true });
    }
  });

  test('a mount point the image made impossible rejects naming it', async () => {
    await writeFile(join(fx.overlay.upper, 'proc'), 'not a directory\n');
    await assert.rejects(run(fx.overlay, 'true'), { message: 'create mount point /proc: not a directory' });
  });

  test('a failing mount rejects with the step and the error', async () => {
    await assert.rejects(
      run(fx.overlay, 'true', {
        rootfs: [{ type: 'bind', source: '/nonexistent-rootfs', destination: '/', options: ['rbind'] }],
      }),
      (err: Error) => {
        assert.ok(err instanceof ContainerSetupError);
        assert.match(err.message, /^mount bind on \/ \(.*\): no such file or directory$/);
        return true;
      },
    );
  });
});
