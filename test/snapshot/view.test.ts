import assert from 'node:assert/strict';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { before, after, describe, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { LayeredView } from '../../src/snapshot/index.js';
import { fsOps } from '../../src/snapshot/native.js';
import { needsRoot, run } from './helpers.js';

async function files(root: string, entries: Record<string, string>): Promise<void> {
  for (const [path, content] of Object.entries(entries)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), content);
  }
}

describe('LayeredView', { skip: needsRoot }, () => {
  let dir: string;
  let view: LayeredView;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tcbuild-view-'));
    const [top, middle, bottom] = ['top', 'middle', 'bottom'].map((n) => join(dir, n)) as [string, string, string];
    await files(bottom, {
      'etc/passwd': 'root:x:0:0::/root:/bin/sh\n',
      'etc/group': 'root:x:0:\n',
      'usr/lib/libc.so': 'libc',
      'usr/bin/sh': 'sh',
      gone: 'deleted above',
      'app/old.js': 'old',
      'app/lib/x.js': 'x',
      'merged/bottom': 'b',
      'was-dir/inner': 'hidden by a file above',
    });
    await symlink('usr/bin', join(bottom, 'bin'));
    await files(middle, {
      'etc/passwd': 'root:x:0:0::/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n',
      'merged/middle': 'm',
      'app/new.js': 'new',
      'was-dir': 'now a file',
    });
    await run('mknod', [join(middle, 'gone'), 'c', '0', '0']);
    fsOps().lsetxattr(join(middle, 'app'), 'trusted.overlay.opaque', Buffer.from('y'));
    await files(top, { 'merged/top': 't', 'app/top.js': 'top' });
    await symlink('../../../../usr/lib', join(top, 'escape'));
    await symlink('/etc', join(top, 'abs'));
    await symlink('loop2', join(top, 'loop1'));
    await symlink('loop1', join(top, 'loop2'));
    view = new LayeredView([top, middle, bottom]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the topmost layer that has a file wins', () => {
    assert.match(view.readFile('/etc/passwd')!.toString(), /^app:/m);
    assert.equal(view.readFile('/etc/group')!.toString(), 'root:x:0:\n');
    assert.equal(view.readFile('/missing'), null);
  });

  test('directories merge across layers', () => {
    assert.deepEqual(view.readdir('/merged'), ['bottom', 'middle', 'top']);
    assert.deepEqual(view.readdir('/'), [
      'abs',
      'app',
      'bin',
      'escape',
      'etc',
      'loop1',
      'loop2',
      'merged',
      'usr',
      'was-dir',
    ]);
  });

  test('a whiteout hides the file below it', () => {
    assert.equal(view.lstat('/gone'), undefined);
    assert.equal(view.readFile('gone'), null);
  });

  test('an opaque directory hides everything below it', () => {
    assert.deepEqual(view.readdir('/app'), ['new.js', 'top.js']);
    assert.equal(view.lstat('/app/old.js'), undefined);
    assert.equal(view.lstat('/app/lib/x.js'), undefined);
  });

  test('a file hides a directory below it', () => {
    assert.ok(view.lstat('/was-dir')?.isFile());
    assert.equal(view.lstat('/was-dir/inner'), undefined);
  });

  test('symlinks resolve inside the root (chroot semantics)', () => {
    assert.equal(view.resolve('/bin/sh', { followFinal: true }), '/usr/bin/sh');
    assert.equal(view.resolve('/bin', { followFinal: false }), '/bin');
    assert.equal(view.resolve('/bin', { followFinal: true }), '/usr/bin');
    assert.equal(view.resolve('/escape/libc.so', { followFinal: true }), '/usr/lib/libc.so');
    assert.equal(view.resolve('/abs/passwd', { followFinal: true }), '/etc/passwd');
    assert.equal(view.resolve('../../../etc/./passwd', { followFinal: true }), '/etc/passwd');
    assert.equal(
      view.resolve('/bin/../etc', { followFinal: true }),
      '/usr/etc',
      "'..' applies after a symlink is followed",
    );
    assert.equal(view.resolve('/nope/deeper', { followFinal: true }), '/nope/deeper');
    assert.equal(view.readFile('/escape/libc.so')!.toString(), 'libc');
    assert.ok(view.lstat('/bin')!.isSymbolicLink());
    assert.equal(view.hostPath('/bin/sh'), join(dir, 'bottom/usr/bin/sh'));
  });

  test('symlink loops fail instead of spinning', () => {
    assert.throws(() => view.resolve('/loop1', { followFinal: true }), /too many levels of symbolic links/);
    assert.equal(view.resolve('/loop1', { followFinal: false }), '/loop1');
  });

  test('an empty stack shows nothing', () => {
    const empty = new LayeredView([]);
    assert.equal(empty.lstat('/'), undefined);
    assert.equal(empty.readFile('/etc/passwd'), null);
    assert.equal(empty.resolve('/a/../b', { followFinal: true }), '/b');
  });
});
