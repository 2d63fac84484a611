import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { applyLayer } from '../../src/snapshot/applier.js';
import {
  END_OF_ARCHIVE,
  encodeEntryHeader,
  paddingFor,
  tarEntry,
  type TarEntry,
} from '../../src/snapshot/tar-format.js';
import { sealTarHeaders } from '../tar-seal.js';
import { filesUnder, PropertyViolation, type FuzzTarget } from '../target.js';

/** Every input is applied into `root`; `decoy` beside it is where an escape would land first. */
const parent = mkdtempSync(join(tmpdir(), 'tcbuild-fuzz-tar-'));
const root = join(parent, 'root');
const decoy = join(parent, 'decoy');
mkdirSync(decoy);
process.on('exit', () => rmSync(parent, { recursive: true, force: true }));

function archive(entries: Array<[Partial<TarEntry> & Pick<TarEntry, 'name' | 'type'>, string?]>): Buffer {
  return Buffer.concat([
    ...entries.flatMap(([fields, data = '']) => {
      const body = Buffer.from(data);
      return [
        encodeEntryHeader(tarEntry({ ...fields, size: body.length })),
        body,
        Buffer.alloc(paddingFor(body.length)),
      ];
    }),
    END_OF_ARCHIVE,
  ]);
}

/**
 * The layer tar reader and applier (src/snapshot/tar-reader.ts, applier.ts) on hostile archives:
 * each is applied into a fresh directory, and afterwards nothing may have appeared beside it —
 * not in its parent, not in the decoy directory that seeded symlinks and links point at.
 * Overlay whiteouts or deletions as on a full copy, by the input's length.
 */
export const target: FuzzTarget = {
  description:
    'layer tars (src/snapshot/tar-reader.ts, applier.ts) applied into a temporary root: nothing may land outside it',
  async fuzz(data) {
    mkdirSync(root);
    try {
      await applyLayer(Readable.from([sealTarHeaders(data)]), 'none', root, {
        whiteouts: data.length % 2 ? 'delete' : 'overlay',
      });
    } finally {
      const beside = readdirSync(parent).sort();
      const inDecoy = readdirSync(decoy);
      rmSync(root, { recursive: true, force: true });
      if (beside.join() !== 'decoy,root' || inDecoy.length > 0) {
        for (const name of readdirSync(decoy)) rmSync(join(decoy, name), { recursive: true, force: true });
        // biome-ignore lint/correctness/noUnsafeFinally: a write outside the root outranks the applier's own error
        throw new PropertyViolation(
          `the layer wrote outside its root: beside it now ${JSON.stringify(beside)}, in the decoy ${JSON.stringify(inDecoy)}`,
        );
      }
    }
  },
  seeds: () => [
    ...filesUnder('test/conformance/dockerfiles', (name) => name.endsWith('.tar')),
    archive([
      [{ name: 'dir/', type: 'dir', mode: 0o755, mtime: 1 }],
      [{ name: 'dir/file', type: 'file', mode: 0o4755, uid: 1000, gid: 1000 }, 'hello\n'],
      [{ name: 'dir/link', type: 'hardlink', linkname: 'dir/file' }],
      [{ name: 'dir/sym', type: 'symlink', linkname: '../../decoy' }],
      [{ name: 'abs', type: 'symlink', linkname: decoy }],
      [{ name: 'fifo', type: 'fifo' }],
      [{ name: 'null', type: 'char', devmajor: 1, devminor: 3 }],
      [
        { name: `${'long/'.repeat(40)}name`, type: 'file', xattrs: new Map([['user.x', Buffer.from([0, 1, 255])]]) },
        'x',
      ],
      [{ name: 'caps', type: 'file', xattrs: new Map([['security.capability', Buffer.alloc(20, 1)]]) }],
    ]),
    archive([
      [{ name: 'a/', type: 'dir' }],
      [{ name: 'a/.wh..wh..opq', type: 'file' }],
      [{ name: 'a/.wh.gone', type: 'file' }],
      [{ name: 'b', type: 'symlink', linkname: 'a' }],
      [{ name: 'a/c', type: 'file' }, 'c'],
      [{ name: 'up', type: 'symlink', linkname: '..' }],
      [{ name: 'up2', type: 'symlink', linkname: '/..' }],
    ]),
    archive([[{ name: 'x', type: 'symlink', linkname: '../decoy' }], [{ name: 'x/escape', type: 'file' }, 'escape']]),
    archive([
      [{ name: 'h', type: 'symlink', linkname: '../decoy/target' }],
      [{ name: 'hl', type: 'hardlink', linkname: 'h' }],
    ]),
  ],
  dictionary: [
    'ustar\0',
    '00',
    '././@LongLink',
    'PaxHeader',
    'path=',
    'linkpath=',
    'size=',
    'mtime=',
    'uid=',
    'SCHILY.xattr.',
    'security.capability',
    'trusted.overlay.opaque',
    '.wh.',
    '.wh..wh..opq',
    '../',
    '/',
    '..',
    '0000644\0',
    '\x80',
    '\xff',
  ],
  maxLength: 32768,
};
