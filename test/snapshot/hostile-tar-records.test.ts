import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { load } from '../../src/api/archive.js';
import { MAX_ARCHIVE_ENTRIES } from '../../src/export/tar-index.js';
import { InvalidInputError, TcbuildError } from '../../src/errors.js';
import { sha256 } from '../../src/image/digest.js';
import type { Layer } from '../../src/image/image.js';
import { MediaType } from '../../src/image/media-types.js';
import { NativeSnapshotter } from '../../src/snapshot/native-snapshotter.js';
import { END_OF_ARCHIVE, encodeEntryHeader, paddingFor, tarEntry } from '../../src/snapshot/tar-format.js';
import { unpackArchive } from '../../src/solver/archive.js';
import { unpackImageLayers } from '../../src/solver/unpack-image.js';
import { needsRoot, withTempDir } from './helpers.js';
import { claimingTarHeader } from '../helpers/tar-header.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** A header whose checksum field is in GNU base-256 (high bit set), eight bytes wide. */
function base256Checksum(): Buffer {
  const block = claimingTarHeader('manifest.json', '0', 0);
  block.fill(0, 148, 156);
  block[148] = 0x80;
  return block;
}

/** A metadata record of `type` whose data is `data`, padded. */
function record(type: string, data: Buffer): Buffer {
  return Buffer.concat([
    claimingTarHeader('././@PaxHeader', type, data.length),
    data,
    Buffer.alloc(paddingFor(data.length)),
  ]);
}

/** One PAX record "<len> key=value\n". */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`.length;
  let len = rest + String(rest).length;
  if (String(len).length !== String(rest).length) len = rest + String(len).length;
  return `${len} ${key}=${value}\n`;
}

/** A PAX header of `count` records: `xattrs` user.* xattrs, the rest comments. */
const manyRecords = (count: number, xattrs = 0) =>
  record(
    'x',
    Buffer.from(
      Array.from({ length: count }, (_, i) =>
        i < xattrs ? paxRecord(`SCHILY.xattr.user.a${i}`, 'v') : paxRecord('comment', String(i)),
      ).join(''),
    ),
  );
/** A PAX header just under 1 MiB, of one comment record (ignored by readers). */
const bigPax = () => record('x', Buffer.from(paxRecord('comment', 'c'.repeat(MiB - 64))));
const fileEntry = Buffer.concat([
  encodeEntryHeader(tarEntry({ name: 'f', type: 'file', size: 1 })),
  Buffer.from('x'),
  Buffer.alloc(511),
  END_OF_ARCHIVE,
]);

/** `head`, then zeros without end (as a hostile registry streams), counting the bytes taken. */
function endless(head: Buffer): { stream: Readable; taken: () => number } {
  let taken = 0;
  const zeros = Buffer.alloc(256 * KiB);
  const stream = Readable.from(
    (function* () {
      taken += head.length;
      yield head;
      for (;;) {
        taken += zeros.length;
        yield zeros;
      }
    })(),
  );
  return { stream, taken: () => taken };
}

function layerOf(stream: Readable, name: string): Layer {
  return {
    descriptor: { mediaType: MediaType.ociLayer, digest: sha256(name), size: 0 },
    diffId: sha256(`diff ${name}`),
    open: async () => stream,
  };
}

const refused = (pattern: RegExp) => (err: Error) => {
  assert.ok(err instanceof TcbuildError, `${err.constructor.name}: ${err.message}`);
  assert.match(err.message, pattern);
  return true;
};

describe('PAX headers and GNU long names from hostile layers and archives are bounded', { skip: needsRoot }, () => {
  it('a PAX header or long name that claims 1 GiB is refused before it is read, naming the layer', async () => {
    await withTempDir(async (dir) => {
      for (const type of ['x', 'L', 'K']) {
        const source = endless(claimingTarHeader('././@LongLink', type, 1024 * MiB));
        const snapshotter = new NativeSnapshotter(join(dir, `snapshots-${type}`));
        const layer = layerOf(source.stream, type);
        await assert.rejects(
          unpackImageLayers(snapshotter, snapshotter, [layer], 'registry.example/app:1'),
          refused(
            new RegExp(
              `^cannot unpack layer ${layer.descriptor.digest} of registry\\.example/app:1: a (PAX header|GNU long name|GNU long link name) is 1073741824 bytes, more than 1 MiB, the most tcbuild accepts for one`,
            ),
          ),
        );
        assert.ok(source.taken() < 8 * MiB, `${type}: the reader took ${source.taken()} bytes`);
      }
    });
  });

  it('records under 1 MiB each but over 1 MiB together before one entry are refused', async () => {
    await withTempDir(async (dir) => {
      const spellings: [string, Buffer][] = [
        ['PAX headers', Buffer.concat([bigPax(), bigPax()])],
        [
          'long names',
          Buffer.concat([record('L', Buffer.alloc(700 * KiB, 0x61)), record('L', Buffer.alloc(700 * KiB, 0x62))]),
        ],
        ['a long name and a PAX header', Buffer.concat([record('L', Buffer.alloc(600 * KiB, 0x61)), bigPax()])],
        [
          'global PAX headers',
          Buffer.concat([record('g', Buffer.alloc(600 * KiB, 0x20)), record('g', Buffer.alloc(600 * KiB, 0x20))]),
        ],
      ];
      for (const [what, head] of spellings) {
        const source = endless(head);
        const layer = layerOf(source.stream, what);
        const snapshotter = new NativeSnapshotter(join(dir, what.replace(/ /g, '-')));
        await assert.rejects(
          unpackImageLayers(snapshotter, snapshotter, [layer], 'app'),
          refused(
            /: the PAX headers and long names before one entry add up to more than 1 MiB, the most tcbuild accepts/,
          ),
          what,
        );
        assert.ok(source.taken() < head.length + 8 * MiB, `${what}: the reader took ${source.taken()} bytes`);
      }
    });
  });

  it('more than 1024 PAX records for one entry are refused; 1000 are not', async () => {
    await withTempDir(async (dir) => {
      const tooMany = layerOf(Readable.from([Buffer.concat([manyRecords(600), manyRecords(600), fileEntry])]), 'many');
      const snapshotter = new NativeSnapshotter(join(dir, 'a'));
      await assert.rejects(
        unpackImageLayers(snapshotter, snapshotter, [tooMany], 'app'),
        refused(/the PAX headers before one entry hold more than 1024 records/),
      );
      const archive = join(dir, 'xattrs.tar');
      await writeFile(archive, Buffer.concat([manyRecords(1000, 20), fileEntry]));
      const out = join(dir, 'out');
      await mkdir(out);
      assert.ok(await unpackArchive(archive, out));
      assert.deepEqual(await readdir(out), ['f']);
    });
  });

  it('an ADD archive with oversized records is refused naming the archive', async () => {
    await withTempDir(async (dir) => {
      const archive = join(dir, 'bundle.tar');
      await writeFile(archive, Buffer.concat([bigPax(), bigPax(), fileEntry]));
      const out = join(dir, 'out');
      await mkdir(out);
      await assert.rejects(
        unpackArchive(archive, out),
        refused(
          new RegExp(
            `^cannot unpack ${archive.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the PAX headers and long names before one entry add up to more than 1 MiB`,
          ),
        ),
      );
      assert.deepEqual(await readdir(out), []);
    });
  });

  it('docker-archive loading: records over 1 MiB together, too many records, too many entries, a base-256 checksum, and a negative PAX size (which led the scan back to the start, for ever) are refused naming the archive', async () => {
    await withTempDir(async (dir) => {
      const archive = join(dir, 'image.tar');
      const cases: [Buffer, RegExp][] = [
        [
          Buffer.concat([bigPax(), bigPax(), fileEntry]),
          /before one entry of docker-archive:.*image\.tar add up to more than 1 MiB/,
        ],
        [
          Buffer.concat([manyRecords(1100), fileEntry]),
          /before one entry of docker-archive:.*image\.tar hold more than 1024 records/,
        ],
        [
          Buffer.concat([
            record('x', Buffer.from(paxRecord('size', '-1536'))),
            claimingTarHeader('manifest.json', '0', 0),
            END_OF_ARCHIVE,
          ]),
          /docker-archive:.*image\.tar is not a valid tar archive: an entry's size is not a byte count/,
        ],
        // Found by the image-archive fuzz target: a checksum in base-256 made the index's own header parser throw a RangeError.
        [
          Buffer.concat([base256Checksum(), END_OF_ARCHIVE]),
          /docker-archive:.*image\.tar is not a tar archive \(or is compressed\): not a valid tar archive: a header checksum does not match/,
        ],
        [
          Buffer.concat([
            ...Array<Buffer>(MAX_ARCHIVE_ENTRIES + 1).fill(claimingTarHeader('d/', '5', 0)),
            END_OF_ARCHIVE,
          ]),
          /docker-archive:.*image\.tar has more than 100000 entries, more than tcbuild reads/,
        ],
      ];
      for (const [bytes, pattern] of cases) {
        await writeFile(archive, bytes);
        await assert.rejects(load(archive, { root: join(dir, 'root') }), (err: Error) => {
          assert.ok(err instanceof InvalidInputError, `${err.constructor.name}: ${err.message}`);
          assert.match(err.message, pattern);
          return true;
        });
      }
    });
  });
});
