import assert from 'node:assert/strict';
import { mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { InvalidInputError } from '../../src/errors.js';
import { applyLayer } from '../../src/snapshot/index.js';
import { fsOps } from '../../src/snapshot/native.js';
import {
  END_OF_ARCHIVE,
  encodeEntryHeader,
  paddingFor,
  tarEntry,
  type TarEntry,
} from '../../src/snapshot/tar-format.js';
import { needsRoot, withTempDir } from './helpers.js';

type Item = Partial<TarEntry> & Pick<TarEntry, 'name' | 'type'> & { data?: string };

function tarOf(items: Item[]): Buffer {
  return Buffer.concat([
    ...items.flatMap(({ data = '', ...fields }) => [
      encodeEntryHeader(tarEntry({ ...fields, size: Buffer.byteLength(data) })),
      Buffer.from(data),
      Buffer.alloc(paddingFor(Buffer.byteLength(data))),
    ]),
    END_OF_ARCHIVE,
  ]);
}

/**
 * Applies `items` into <dir>/target next to <dir>/outside and checks that the archive is refused
 * with a message matching `reason`, and that nothing appeared outside the target.
 */
async function assertRefused(items: Item[] | ((outside: string) => Item[]), reason: RegExp): Promise<void> {
  await withTempDir(async (dir) => {
    const target = join(dir, 'target');
    const outside = join(dir, 'outside');
    await mkdir(target);
    await mkdir(outside);
    const passwdLinks = (await stat('/etc/passwd')).nlink;
    const archive = tarOf(typeof items === 'function' ? items(outside) : items);
    await assert.rejects(applyLayer(Readable.from([archive]), 'none', target), (err: unknown) => {
      assert.ok(err instanceof InvalidInputError, `expected InvalidInputError, got ${String(err)}`);
      assert.match(err.message, reason);
      return true;
    });
    assert.deepEqual(await readdir(outside), [], 'nothing written outside the target');
    assert.deepEqual((await readdir(dir)).sort(), ['outside', 'target']);
    assert.equal((await stat('/etc/passwd')).nlink, passwdLinks, '/etc/passwd gained no link');
  });
}

describe('applyLayer refuses archives that reach outside the target', { skip: needsRoot }, () => {
  test("'..' in a name", () => assertRefused([{ name: '../outside/pwn', type: 'file', data: 'x' }], /contains '\.\.'/));
  test("'..' hidden in the middle", () =>
    assertRefused([{ name: 'a/../../outside/pwn', type: 'file', data: 'x' }], /contains '\.\.'/));
  test('an absolute name', () =>
    assertRefused((outside) => [{ name: `${outside}/pwn`, type: 'file', data: 'x' }], /is absolute/));

  test('a file written through a symlink the archive made (absolute target)', () =>
    assertRefused(
      (outside) => [
        { name: 'evil', type: 'symlink', linkname: outside },
        { name: 'evil/pwn', type: 'file', data: 'x' },
      ],
      /"evil" passes through a symlink/,
    ));

  test('a file written through a symlink the archive made (relative target)', () =>
    assertRefused(
      [
        { name: 'evil', type: 'symlink', linkname: '../outside' },
        { name: 'evil/pwn', type: 'file', data: 'x' },
      ],
      /passes through a symlink/,
    ));

  test('a directory created through a symlink', () =>
    assertRefused(
      [
        { name: 'evil', type: 'symlink', linkname: '../outside' },
        { name: 'evil/sub/', type: 'dir', mode: 0o755 },
      ],
      /passes through a symlink/,
    ));

  test('a hard link to /etc/passwd', () =>
    assertRefused(
      [{ name: 'passwd', type: 'hardlink', linkname: '/etc/passwd' }],
      /hard link target "\/etc\/passwd" is absolute/,
    ));
  test("a hard link up through '..'", () =>
    assertRefused([{ name: 'passwd', type: 'hardlink', linkname: '../../../../etc/passwd' }], /contains '\.\.'/));
  test('a hard link through a symlink', () =>
    assertRefused(
      [
        { name: 'etc', type: 'symlink', linkname: '/etc' },
        { name: 'passwd', type: 'hardlink', linkname: 'etc/passwd' },
      ],
      /passes through a symlink/,
    ));

  test('whiteouts that name no file of their directory', async () => {
    await assertRefused([{ name: '.wh...', type: 'file' }], /not a valid whiteout/);
    await assertRefused([{ name: 'dir/.wh.', type: 'file' }], /not a valid whiteout/);
    await assertRefused([{ name: '.wh..', type: 'file' }], /not a valid whiteout/);
  });

  test('a whiteout through a symlink', () =>
    assertRefused(
      [
        { name: 'evil', type: 'symlink', linkname: '../outside' },
        { name: 'evil/.wh.x', type: 'file' },
      ],
      /passes through a symlink/,
    ));

  test('a truncated archive', () =>
    withTempDir(async (dir) => {
      const archive = tarOf([{ name: 'f', type: 'file', data: 'x'.repeat(2000) }]).subarray(0, 1024);
      await assert.rejects(applyLayer(Readable.from([archive]), 'none', dir), /truncated/);
    }));

  test('a corrupt header', () =>
    withTempDir(async (dir) => {
      const archive = tarOf([{ name: 'f', type: 'file', data: 'x' }]);
      archive[0] = 0x41;
      await assert.rejects(applyLayer(Readable.from([archive]), 'none', dir), /checksum/);
    }));
});

describe('applyLayer on benign archives', { skip: needsRoot }, () => {
  test('symlinks may point anywhere; they are created, never followed', () =>
    withTempDir(async (dir) => {
      await applyLayer(
        Readable.from([
          tarOf([
            { name: 'abs', type: 'symlink', linkname: '/etc/passwd' },
            { name: 'up', type: 'symlink', linkname: '../../..' },
          ]),
        ]),
        'none',
        dir,
      );
      await applyLayer(Readable.from([tarOf([{ name: 'up', type: 'file', data: 'replaced' }])]), 'none', dir);
      assert.deepEqual((await readdir(dir)).sort(), ['abs', 'up']);
      assert.equal(
        (await stat(join(dir, 'up'))).size,
        8,
        'a later entry replaces the symlink instead of writing through it',
      );
    }));

  test("only file capabilities and user.* xattrs are restored (not overlay's, trusted.*, security.selinux); missing parents are created", () =>
    withTempDir(async (dir) => {
      const capability = Buffer.from('0100000200200000000000000000000000000000', 'hex');
      const xattrs = new Map([
        ['trusted.overlay.redirect', Buffer.from('/etc')],
        ['user.overlay.opaque', Buffer.from('y')],
        ['trusted.other', Buffer.from('t')],
        ['security.selinux', Buffer.from('system_u:object_r:shadow_t:s0')],
        ['security.capability', capability],
        ['user.keep', Buffer.from('v')],
      ]);
      await applyLayer(
        Readable.from([tarOf([{ name: 'a/b/c', type: 'file', data: 'x', uid: 1, gid: 1, xattrs }])]),
        'none',
        dir,
      );
      const path = join(dir, 'a/b/c');
      assert.deepEqual(fsOps().llistxattr(path).sort(), ['security.capability', 'user.keep']);
      assert.deepEqual(
        fsOps().lgetxattr(path, 'security.capability'),
        capability,
        'set after the owner, which clears it',
      );
      assert.equal((await stat(join(dir, 'a/b'))).mode & 0o777, 0o755);
    }));

  test('a later layer replaces a directory with a file', () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, 'marker'), '');
      await applyLayer(
        Readable.from([
          tarOf([
            { name: 'd/', type: 'dir', mode: 0o755 },
            { name: 'd/inner', type: 'file', data: 'x' },
          ]),
        ]),
        'none',
        dir,
      );
      await applyLayer(Readable.from([tarOf([{ name: 'd', type: 'file', data: 'file now' }])]), 'none', dir);
      assert.ok((await stat(join(dir, 'd'))).isFile());
    }));
});
