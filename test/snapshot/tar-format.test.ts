import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import {
  END_OF_ARCHIVE,
  encodeEntryHeader,
  paddingFor,
  tarEntry,
  type TarEntry,
} from '../../src/snapshot/tar-format.js';
import { readTar } from '../../src/snapshot/tar-reader.js';

async function roundTrip(entry: TarEntry, data = Buffer.alloc(0)): Promise<{ entry: TarEntry; data: Buffer }> {
  const archive = Buffer.concat([
    encodeEntryHeader(entry),
    data,
    Buffer.alloc(paddingFor(data.length)),
    END_OF_ARCHIVE,
  ]);
  // Deliver in awkward chunk sizes to exercise the reader's buffering.
  const chunks = [];
  for (let i = 0; i < archive.length; i += 333) chunks.push(archive.subarray(i, i + 333));
  const read: Array<{ entry: TarEntry; data: Buffer }> = [];
  for await (const { entry: e, body } of readTar(Readable.from(chunks))) {
    const parts: Buffer[] = [];
    for await (const chunk of body) parts.push(chunk);
    read.push({ entry: e, data: Buffer.concat(parts) });
  }
  assert.equal(read.length, 1);
  return read[0]!;
}

test('PAX carries what ustar cannot: long and non-ASCII names, big ids, binary xattrs', async () => {
  const capability = Buffer.from('0100000200200000000000000000000000000000', 'hex');
  const entry = tarEntry({
    name: `${'a'.repeat(200)}/ünï/${'b'.repeat(150)}`,
    type: 'file',
    mode: 0o4755,
    uid: 3_000_000,
    gid: 70_000,
    mtime: 1_700_000_000,
    size: 5,
    xattrs: new Map([
      ['security.capability', capability],
      ['user.bin', Buffer.from([0, 0xff, 0x0a, 0x3d])],
    ]),
  });
  const { entry: read, data } = await roundTrip(entry, Buffer.from('hello'));
  assert.deepEqual(read, entry);
  assert.equal(data.toString(), 'hello');
});

test('names up to 255 bytes split into ustar prefix and name; directories keep their slash', async () => {
  const name = `${'p'.repeat(150)}/${'n'.repeat(99)}/`;
  const header = encodeEntryHeader(tarEntry({ name, type: 'dir', mode: 0o755 }));
  assert.equal(header.length, 512, 'no PAX header needed');
  assert.equal((await roundTrip(tarEntry({ name, type: 'dir', mode: 0o755 }))).entry.name, name);
});

test('links, devices and negative mtimes survive', async () => {
  for (const entry of [
    tarEntry({ name: 'l', type: 'symlink', linkname: `/${'x'.repeat(150)}`, mode: 0o777 }),
    tarEntry({ name: 'h', type: 'hardlink', linkname: 'usr/bin/other' }),
    tarEntry({ name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0, mode: 0o660 }),
    tarEntry({ name: 'old', type: 'file', mtime: -86_400 }),
  ]) {
    assert.deepEqual((await roundTrip(entry)).entry, entry);
  }
});

test('the same entry always encodes to the same bytes', () => {
  const entry = (): TarEntry =>
    tarEntry({
      name: 'x'.repeat(300),
      type: 'file',
      xattrs: new Map([
        ['user.b', Buffer.from('2')],
        ['user.a', Buffer.from('1')],
      ]),
    });
  assert.deepEqual(encodeEntryHeader(entry()), encodeEntryHeader(entry()));
});
