import assert from 'node:assert/strict';
import { lstat, mkdir, readFile, readdir, readlink, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { applyLayer, type WhiteoutMode } from '../../src/snapshot/applier.js';
import {
  END_OF_ARCHIVE,
  encodeEntryHeader,
  paddingFor,
  tarEntry,
  type TarEntry,
} from '../../src/snapshot/tar-format.js';
import { needsRoot, withTempDir } from './helpers.js';
import { describeTree } from './tree.js';

/**
 * containerd's TestBreakouts (pkg/archive/tar_test.go), as behaviours: each archive tries to
 * write, link, delete or chmod something outside the target root. Whether the applier refuses it
 * or applies it harmlessly inside, nothing outside the root may change.
 */

type Item = Partial<TarEntry> & Pick<TarEntry, 'name' | 'type'> & { data?: string };
/** `OUT` in names and link targets is replaced by the absolute path of the outside directory. */
type Items = Item[];

interface Case {
  name: string;
  /** A layer applied first (it must apply cleanly). */
  before?: Items;
  layer: Items;
  /** 'refused', or a check of the target after the layer applied. */
  expect: 'refused' | ((target: string) => Promise<void>);
  whiteouts?: WhiteoutMode;
}

function tarOf(items: Items, outside: string): Buffer {
  const fill = (s: string | undefined): string => (s ?? '').replaceAll('OUT', outside);
  return Buffer.concat([
    ...items.flatMap(({ data = '', ...fields }) => [
      encodeEntryHeader(
        tarEntry({
          ...fields,
          name: fill(fields.name),
          linkname: fill(fields.linkname),
          size: Buffer.byteLength(data),
        }),
      ),
      Buffer.from(data),
      Buffer.alloc(paddingFor(Buffer.byteLength(data))),
    ]),
    END_OF_ARCHIVE,
  ]);
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(
    () => true,
    () => false,
  );
}

async function runCase(c: Case): Promise<void> {
  await withTempDir(async (dir) => {
    const target = join(dir, 'target');
    const outside = join(dir, 'outside');
    await mkdir(target);
    await mkdir(join(outside, 'sub'), { recursive: true });
    await writeFile(join(outside, 'victim'), 'original');
    await writeFile(join(outside, 'sub', 'file'), 'original');
    const apply = (items: Items): Promise<unknown> =>
      applyLayer(Readable.from([tarOf(items, outside)]), 'none', target, { whiteouts: c.whiteouts ?? 'overlay' });
    if (c.before) await apply(c.before);
    const outsideBefore = await describeTree(outside);
    const passwd = await stat('/etc/passwd');

    if (c.expect === 'refused') await assert.rejects(apply(c.layer));
    else {
      await apply(c.layer);
      await c.expect(target);
    }

    assert.deepEqual(await describeTree(outside), outsideBefore, 'nothing outside the root changed');
    assert.deepEqual((await readdir(dir)).sort(), ['outside', 'target'], 'nothing appeared beside the root');
    const passwdAfter = await stat('/etc/passwd');
    assert.deepEqual(
      [passwdAfter.nlink, passwdAfter.mode, passwdAfter.mtimeMs],
      [passwd.nlink, passwd.mode, passwd.mtimeMs],
      '/etc/passwd untouched',
    );
  });
}

const file = (name: string, data = 'pwned'): Item => ({ name, type: 'file', data });
const dir = (name: string): Item => ({ name, type: 'dir', mode: 0o755 });
const symlink = (name: string, linkname: string): Item => ({ name, type: 'symlink', linkname });
const hardlink = (name: string, linkname: string): Item => ({ name, type: 'hardlink', linkname });

const cases: Case[] = [
  // Names that climb out or start at /.
  { name: 'a file named ../', layer: [file('../victim')], expect: 'refused' },
  {
    name: 'a file whose name climbs out in the middle (a/../../)',
    layer: [file('a/../../outside/victim')],
    expect: 'refused',
  },
  { name: 'a name starting with ./../', layer: [file('./../outside/victim')], expect: 'refused' },
  { name: 'a directory named ../', layer: [dir('../newdir/')], expect: 'refused' },
  { name: 'a directory named a/..', layer: [dir('a/..')], expect: 'refused' },
  { name: 'an absolute file name', layer: [file('OUT/victim')], expect: 'refused' },
  { name: 'an absolute directory name', layer: [dir('OUT/sub/new/')], expect: 'refused' },
  {
    name: 'a long PAX name that climbs out',
    layer: [file(`${'a/'.repeat(60)}${'../'.repeat(62)}outside/victim`)],
    expect: 'refused',
  },
  { name: "a file named '.'", layer: [file('.')], expect: 'refused' },

  // Symlinks made by the layer, then used as a path.
  {
    name: 'symlink to an absolute dir outside, then a file through it',
    layer: [symlink('evil', 'OUT'), file('evil/victim')],
    expect: 'refused',
  },
  {
    name: 'symlink up and out (relative), then a file through it',
    layer: [symlink('evil', '../outside'), file('evil/victim')],
    expect: 'refused',
  },
  {
    name: 'symlink far up and out, then a directory through it',
    layer: [symlink('evil', `${'../'.repeat(20)}tmp`), dir('evil/made/')],
    expect: 'refused',
  },
  {
    name: 'symlink to /, then a file through it',
    layer: [symlink('root', '/'), file('rootOUT/victim')],
    expect: 'refused',
  },
  {
    name: 'symlink to /proc/self/root, then a file through it',
    layer: [symlink('proc', '/proc/self/root'), file('proc/etc/pwned')],
    expect: 'refused',
  },
  {
    name: 'a chain of symlinks that leads out',
    layer: [symlink('b', '../outside'), symlink('a', 'b'), file('a/victim')],
    expect: 'refused',
  },
  { name: 'a symlink loop used as a path', layer: [symlink('loop', 'loop'), file('loop/x')], expect: 'refused' },
  { name: "a symlink to '.' used as a path", layer: [symlink('self', '.'), file('self/self/x')], expect: 'refused' },
  {
    name: 'a symlink inside the root, used as a path, is not followed either',
    layer: [dir('real/'), symlink('alias', 'real'), file('alias/x')],
    expect: 'refused',
  },
  {
    name: 'a whiteout through a symlink the layer made',
    layer: [symlink('evil', 'OUT'), file('evil/.wh.victim', '')],
    expect: 'refused',
  },
  {
    name: 'an opaque marker through a symlink the layer made',
    layer: [symlink('evil', 'OUT'), file('evil/.wh..wh..opq', '')],
    expect: 'refused',
    whiteouts: 'delete',
  },

  // Symlinks left by an earlier layer (a directory replaced by a symlink).
  {
    name: 'an earlier symlink to outside, then a file through it',
    before: [symlink('etc', 'OUT')],
    layer: [file('etc/victim')],
    expect: 'refused',
  },
  {
    name: 'an earlier symlink to outside, then a directory through it',
    before: [symlink('etc', 'OUT')],
    layer: [dir('etc/sub/')],
    expect: 'refused',
  },
  {
    name: 'an earlier directory replaced by a symlink, then a file below it',
    before: [dir('d/'), file('d/f')],
    layer: [symlink('d', 'OUT'), file('d/victim')],
    expect: 'refused',
  },
  {
    name: 'an earlier symlink to outside, then a whiteout through it',
    before: [symlink('etc', 'OUT')],
    layer: [file('etc/.wh.victim', '')],
    expect: 'refused',
    whiteouts: 'delete',
  },
  {
    name: 'an earlier symlink to outside, then an opaque marker in it',
    before: [symlink('etc', 'OUT/sub')],
    layer: [file('etc/.wh..wh..opq', '')],
    expect: 'refused',
    whiteouts: 'delete',
  },
  {
    name: 'an earlier symlink to a file outside is replaced, not written through',
    before: [symlink('passwd', 'OUT/victim')],
    layer: [file('passwd', 'mine')],
    expect: async (t) => assert.equal(await readFile(join(t, 'passwd'), 'utf8'), 'mine'),
  },
  {
    name: 'an earlier symlink to a directory outside is replaced by a directory',
    before: [symlink('d', 'OUT/sub')],
    layer: [dir('d/'), file('d/file', 'mine')],
    expect: async (t) => assert.equal(await readFile(join(t, 'd/file'), 'utf8'), 'mine'),
  },

  // Hard links.
  { name: 'a hard link to an absolute path', layer: [hardlink('passwd', '/etc/passwd')], expect: 'refused' },
  { name: 'a hard link to a file outside by absolute path', layer: [hardlink('v', 'OUT/victim')], expect: 'refused' },
  { name: 'a hard link up and out', layer: [hardlink('v', '../outside/victim')], expect: 'refused' },
  {
    name: 'a hard link through a symlink the layer made',
    layer: [symlink('o', 'OUT'), hardlink('v', 'o/victim')],
    expect: 'refused',
  },
  {
    name: 'a hard link through an earlier symlink',
    before: [symlink('o', 'OUT')],
    layer: [hardlink('v', 'o/victim')],
    expect: 'refused',
  },
  { name: 'a hard link to the root', layer: [hardlink('r', '.')], expect: 'refused' },
  { name: 'a hard link to a directory', layer: [dir('d/'), hardlink('h', 'd')], expect: 'refused' },
  { name: 'a hard link to nothing', layer: [hardlink('h', 'missing')], expect: 'refused' },
  {
    name: 'a hard link to a symlink that points out links the symlink itself',
    layer: [symlink('s', 'OUT/victim'), hardlink('h', 's')],
    expect: async (t) => {
      assert.ok((await lstat(join(t, 'h'))).isSymbolicLink());
      assert.equal((await lstat(join(t, 'h'))).ino, (await lstat(join(t, 's'))).ino);
    },
  },
  {
    name: 'a file written over a hard link to a symlink does not write through',
    before: [symlink('s', 'OUT/victim'), hardlink('h', 's')],
    layer: [file('h', 'mine')],
    expect: async (t) => assert.equal(await readlink(join(t, 's')), join(t, '..', 'outside', 'victim')),
  },

  // Whiteouts.
  { name: "a whiteout of '..'", layer: [file('.wh...', '')], expect: 'refused' },
  { name: "a whiteout of '.'", layer: [file('sub/.wh..', '')], expect: 'refused' },
  { name: 'a bare .wh.', layer: [file('dir/.wh.', '')], expect: 'refused' },
  {
    name: 'a whiteout of a symlink removes the link, not its target',
    before: [symlink('link', 'OUT/victim')],
    layer: [file('.wh.link', '')],
    whiteouts: 'delete',
    expect: async (t) => assert.equal(await exists(join(t, 'link')), false),
  },
  {
    name: 'a whiteout of a directory holding a symlink out removes only the directory',
    before: [dir('d/'), symlink('d/out', 'OUT'), symlink('d/sub', 'OUT/sub')],
    layer: [file('.wh.d', '')],
    whiteouts: 'delete',
    expect: async (t) => assert.deepEqual(await readdir(t), []),
  },
  {
    name: 'an opaque directory holding a symlink out is emptied without following it',
    before: [dir('d/'), symlink('d/out', 'OUT')],
    layer: [dir('d/'), file('d/.wh..wh..opq', ''), file('d/new', 'n')],
    whiteouts: 'delete',
    expect: async (t) => assert.deepEqual(await readdir(join(t, 'd')), ['new']),
  },

  // Duplicates.
  { name: 'the same file twice', layer: [file('f', 'one'), file('f', 'two')], expect: 'refused' },
  {
    name: 'a directory and then a file of the same name',
    layer: [dir('d/'), file('d/inner'), file('d', 'file now')],
    expect: 'refused',
  },
  { name: 'a file and its whiteout in one layer', layer: [file('f'), file('.wh.f', '')], expect: 'refused' },
  {
    name: 'a symlink then a file of the same name',
    layer: [symlink('up', '../../..'), file('up', 'replaced')],
    expect: 'refused',
  },

  // Special files stay inside.
  {
    name: 'a device node and a setuid file are made inside the root',
    layer: [
      { name: 'null', type: 'char', mode: 0o666, devmajor: 1, devminor: 3 },
      { ...file('suid'), mode: 0o4755 },
    ],
    expect: async (t) => {
      assert.ok((await lstat(join(t, 'null'))).isCharacterDevice());
      assert.equal((await lstat(join(t, 'suid'))).mode & 0o7777, 0o4755);
    },
  },
];

describe('applyLayer against containerd-style breakouts', { skip: needsRoot }, () => {
  for (const c of cases) test(c.name, () => runCase(c));
});
