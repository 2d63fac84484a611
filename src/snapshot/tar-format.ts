import { InvalidInputError } from '../errors.js';

/**
 * The tar format (POSIX ustar + PAX extended headers) as the differ writes and the applier reads it.
 * Hand-written rather than tar-stream's because PAX values must stay raw bytes: xattr values such
 * as security.capability are binary, and tar-stream encodes and decodes PAX records as UTF-8 text.
 */

export const BLOCK_SIZE = 512;

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'char' | 'block' | 'dir' | 'fifo';

export interface TarEntry {
  /** Relative, '/'-separated; a directory's name ends with '/'. */
  name: string;
  type: TarEntryType;
  /** Permission bits including setuid, setgid and sticky; no file-type bits. */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of data that follow the header (regular files only). */
  size: number;
  /** Seconds since the epoch; written as an integer, read possibly with a fraction (PAX). */
  mtime: number;
  /** Target of a hard link (a path in the archive) or of a symlink (any text). */
  linkname: string;
  devmajor: number;
  devminor: number;
  xattrs: Map<string, Buffer>;
}

export function tarEntry(fields: Partial<TarEntry> & Pick<TarEntry, 'name' | 'type'>): TarEntry {
  return {
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: 0,
    mtime: 0,
    linkname: '',
    devmajor: 0,
    devminor: 0,
    xattrs: new Map(),
    ...fields,
  };
}

const TYPEFLAGS: Record<TarEntryType, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
};

export const XATTR_PAX_PREFIX = 'SCHILY.xattr.';

const FIELD = {
  name: [0, 100],
  mode: [100, 8],
  uid: [108, 8],
  gid: [116, 8],
  size: [124, 12],
  mtime: [136, 12],
  checksum: [148, 8],
  typeflag: [156, 1],
  linkname: [157, 100],
  magic: [257, 6],
  version: [263, 2],
  uname: [265, 32],
  gname: [297, 32],
  devmajor: [329, 8],
  devminor: [337, 8],
  prefix: [345, 155],
} as const satisfies Record<string, readonly [number, number]>;

type Field = keyof typeof FIELD;

/** Largest value an octal field of `width` bytes holds (width-1 digits and a NUL). */
function octalMax(field: Field): number {
  return 8 ** (FIELD[field][1] - 1) - 1;
}

export function paddingFor(size: number): number {
  return (BLOCK_SIZE - (size % BLOCK_SIZE)) % BLOCK_SIZE;
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE: Buffer = Buffer.alloc(2 * BLOCK_SIZE);

// ---------------------------------------------------------------------------------------------
// Writing

/** The header block(s) of an entry: a PAX header first when ustar cannot hold everything. */
export function encodeEntryHeader(entry: TarEntry): Buffer {
  const pax: Array<[string, Buffer]> = [];
  const name = entry.type === 'dir' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
  const split = splitUstarName(name);
  if (!split) pax.push(['path', Buffer.from(name)]);
  if (!fitsUstarText(entry.linkname, FIELD.linkname[1])) pax.push(['linkpath', Buffer.from(entry.linkname)]);
  for (const field of ['uid', 'gid', 'size'] as const) {
    if (entry[field] > octalMax(field)) pax.push([field, Buffer.from(String(entry[field]))]);
  }
  const mtime = Math.floor(entry.mtime);
  if (mtime < 0 || mtime > octalMax('mtime')) pax.push(['mtime', Buffer.from(String(mtime))]);
  for (const [key, value] of [...entry.xattrs].sort(([a], [b]) => compareBytes(a, b))) {
    pax.push([XATTR_PAX_PREFIX + key, value]);
  }

  const header = ustarBlock({
    name: split?.name ?? name,
    prefix: split?.prefix ?? '',
    typeflag: TYPEFLAGS[entry.type],
    mode: entry.mode & 0o7777,
    uid: entry.uid > octalMax('uid') ? 0 : entry.uid,
    gid: entry.gid > octalMax('gid') ? 0 : entry.gid,
    size: entry.size > octalMax('size') ? 0 : entry.size,
    mtime: mtime < 0 || mtime > octalMax('mtime') ? 0 : mtime,
    linkname: entry.linkname,
    devmajor: entry.devmajor,
    devminor: entry.devminor,
  });
  if (pax.length === 0) return header;

  const records = encodePaxRecords(pax);
  const paxHeader = ustarBlock({
    name: 'PaxHeader',
    prefix: '',
    typeflag: 'x',
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: records.length,
    mtime: 0,
    linkname: '',
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHeader, records, Buffer.alloc(paddingFor(records.length)), header]);
}

interface UstarFields {
  name: string;
  prefix: string;
  typeflag: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
}

function ustarBlock(fields: UstarFields): Buffer {
  const block = Buffer.alloc(BLOCK_SIZE);
  // Values too long for their field (kept whole in a PAX record) are cut at the field's width.
  const text = (field: Field, value: string): void => {
    Buffer.from(value, 'utf8').copy(block, FIELD[field][0], 0, FIELD[field][1]);
  };
  const octal = (field: Field, value: number): void => {
    if (!Number.isInteger(value) || value < 0 || value > octalMax(field)) {
      throw new InvalidInputError(`tar header field ${field} cannot hold ${value} (entry "${fields.name}")`);
    }
    text(field, value.toString(8).padStart(FIELD[field][1] - 1, '0'));
  };
  text('name', fields.name);
  octal('mode', fields.mode);
  octal('uid', fields.uid);
  octal('gid', fields.gid);
  octal('size', fields.size);
  octal('mtime', fields.mtime);
  text('typeflag', fields.typeflag);
  text('linkname', fields.linkname);
  text('magic', 'ustar\0');
  text('version', '00');
  octal('devmajor', fields.devmajor);
  octal('devminor', fields.devminor);
  text('prefix', fields.prefix);
  writeChecksum(block);
  return block;
}

/** Fills in a header block's checksum field from the rest of it. */
export function writeChecksum(block: Buffer): void {
  block.write(`${checksumOf(block).toString(8).padStart(6, '0')}\0 `, FIELD.checksum[0], FIELD.checksum[1], 'latin1');
}

/** Sum of the header bytes with the checksum field counted as spaces. */
function checksumOf(block: Buffer): number {
  let sum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const inChecksum = i >= FIELD.checksum[0] && i < FIELD.checksum[0] + FIELD.checksum[1];
    sum += inChecksum ? 0x20 : block[i]!;
  }
  return sum;
}

/** ustar fields are ASCII; anything else goes to PAX (as Go's archive/tar does). */
function fitsUstarText(value: string, width: number): boolean {
  return value.length <= width && /^[\x01-\x7f]*$/.test(value);
}

/** Splits a long name into ustar's prefix (155) and name (100) at a '/', or undefined. */
function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (fitsUstarText(name, FIELD.name[1])) return { prefix: '', name };
  if (!fitsUstarText(name, FIELD.prefix[1] + 1 + FIELD.name[1])) return undefined;
  // A directory's trailing '/' must stay in the name part.
  for (let i = name.indexOf('/'); i > 0 && i < name.length - 1; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (prefix.length <= FIELD.prefix[1] && rest.length <= FIELD.name[1]) return { prefix, name: rest };
  }
  return undefined;
}

function encodePaxRecords(records: Array<[string, Buffer]>): Buffer {
  return Buffer.concat(
    records.map(([key, value]) => {
      // "<len> <key>=<value>\n" where len counts its own digits too.
      const rest = Buffer.byteLength(` ${key}=`) + value.length + 1;
      let len = rest + String(rest).length;
      if (String(len).length !== String(rest).length) len = rest + String(len).length;
      return Buffer.concat([Buffer.from(`${len} ${key}=`), value, Buffer.from('\n')]);
    }),
  );
}

export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

// ---------------------------------------------------------------------------------------------
// Reading

/** What one header block says, before PAX / GNU long-name records are applied. */
export interface RawHeader {
  typeflag: string;
  entry: TarEntry;
}

export function isZeroBlock(block: Buffer): boolean {
  return block.every((b) => b === 0);
}

export function decodeHeaderBlock(block: Buffer): RawHeader {
  const text = (field: Field): string => {
    const [start, width] = FIELD[field];
    const raw = block.subarray(start, start + width);
    const end = raw.indexOf(0);
    return raw.subarray(0, end === -1 ? width : end).toString('utf8');
  };
  const stored = parseNumber(block, 'checksum');
  let signedSum = 0;
  for (let i = 0; i < BLOCK_SIZE; i++) {
    const inChecksum = i >= FIELD.checksum[0] && i < FIELD.checksum[0] + FIELD.checksum[1];
    signedSum += inChecksum ? 0x20 : (block[i]! << 24) >> 24;
  }
  if (stored !== checksumOf(block) && stored !== signedSum) {
    throw new InvalidInputError('not a valid tar archive: a header checksum does not match');
  }
  const magic = block.subarray(FIELD.magic[0], FIELD.magic[0] + FIELD.magic[1]).toString('latin1');
  const isPosix = magic === 'ustar\0';
  const prefix = isPosix ? text('prefix') : '';
  const name = prefix ? `${prefix}/${text('name')}` : text('name');
  let typeflag = text('typeflag') || '0';
  if (typeflag === '0' && name.endsWith('/')) typeflag = '5'; // pre-POSIX directories
  return {
    typeflag,
    entry: tarEntry({
      name,
      type: entryTypeOf(typeflag, name),
      mode: parseNumber(block, 'mode') & 0o7777,
      uid: parseNumber(block, 'uid'),
      gid: parseNumber(block, 'gid'),
      size: parseNumber(block, 'size'),
      mtime: parseNumber(block, 'mtime'),
      linkname: text('linkname'),
      devmajor: parseNumber(block, 'devmajor'),
      devminor: parseNumber(block, 'devminor'),
    }),
  };
}

/** Typeflags of records that describe the next entry rather than being one. */
export const META_TYPEFLAGS = new Set(['x', 'g', 'L', 'K']);

function entryTypeOf(typeflag: string, name: string): TarEntryType {
  switch (typeflag) {
    case '0':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '3':
      return 'char';
    case '4':
      return 'block';
    case '5':
      return 'dir';
    case '6':
      return 'fifo';
    default:
      if (META_TYPEFLAGS.has(typeflag)) return 'file';
      throw new InvalidInputError(`unsupported tar entry type '${typeflag}' for "${name}"`);
  }
}

/** Octal (space/NUL padded) or GNU base-256 when the high bit of the first byte is set. */
function parseNumber(block: Buffer, field: Field): number {
  const [start, width] = FIELD[field];
  const raw = block.subarray(start, start + width);
  if (raw[0]! & 0x80) {
    const negative = raw[0] === 0xff;
    let value = 0;
    for (let i = 1; i < raw.length; i++) value = value * 256 + (negative ? 0xff - raw[i]! : raw[i]!);
    return negative ? -(value + 1) : value;
  }
  const digits = raw
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .replace(/^[\0 ]+/, '');
  if (digits === '') return 0;
  if (!/^[0-7]+$/.test(digits))
    throw new InvalidInputError(`not a valid tar archive: bad number in header field ${field}`);
  return parseInt(digits, 8);
}

/** PAX records keyed by name; values stay bytes. `budget` counts them as they are read. */
export function parsePaxRecords(data: Buffer, budget: MetaRecordBudget): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    budget.countPax(1);
    const space = data.indexOf(0x20, pos);
    const len = space === -1 ? NaN : Number(data.subarray(pos, space).toString('latin1'));
    if (!Number.isInteger(len) || len <= 0 || pos + len > data.length || data[pos + len - 1] !== 0x0a) {
      throw new InvalidInputError(`not a valid tar archive${budget.where}: malformed PAX header`);
    }
    const record = data.subarray(space + 1, pos + len - 1);
    const eq = record.indexOf(0x3d);
    if (eq === -1) throw new InvalidInputError(`not a valid tar archive${budget.where}: malformed PAX record`);
    records.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1));
    pos += len;
  }
  return records;
}

/** Applies PAX records to an entry (path, linkpath, size, uid, gid, mtime, SCHILY.xattr.*). */
export function applyPaxRecords(entry: TarEntry, records: Map<string, Buffer>): void {
  for (const [key, value] of records) {
    const text = value.toString('utf8');
    const number = (): number => {
      const n = Number(text);
      if (!Number.isFinite(n))
        throw new InvalidInputError(`not a valid tar archive: PAX ${key}="${text}" is not a number`);
      return n;
    };
    if (key === 'path') entry.name = text;
    else if (key === 'linkpath') entry.linkname = text;
    else if (key === 'size') entry.size = number();
    else if (key === 'uid') entry.uid = number();
    else if (key === 'gid') entry.gid = number();
    else if (key === 'mtime') entry.mtime = number();
    else if (key.startsWith(XATTR_PAX_PREFIX)) entry.xattrs.set(key.slice(XATTR_PAX_PREFIX.length), Buffer.from(value));
  }
}

// ---------------------------------------------------------------------------------------------
// Bounds on what a reader holds in memory for one entry

/** The PAX headers and GNU long names before one entry, together (real ones: a few hundred bytes). */
export const MAX_META_BYTES = 1024 * 1024;
/** PAX records (xattrs, mostly) for one entry: far more than any file system keeps on a file. */
export const MAX_PAX_RECORDS = 1024;

const META_NAMES: Record<string, string> = {
  x: 'a PAX header',
  g: 'a global PAX header',
  L: 'a GNU long name',
  K: 'a GNU long link name',
};

/**
 * What the metadata records before one entry may take: each is read whole into memory, so each
 * is checked before it is read — alone and with the ones before it — and so is the count of PAX
 * records. `what` names the archive in errors, when the reader knows it.
 */
export class MetaRecordBudget {
  private bytes = 0;
  private records = 0;

  constructor(private readonly what?: string) {}

  /** Before reading a record of type `typeflag` whose header says `size` bytes. */
  admit(typeflag: string, size: number): void {
    const record = `${META_NAMES[typeflag] ?? 'a metadata record'}${this.where}`;
    if (size > MAX_META_BYTES)
      throw this.refuse(`${record} is ${size} bytes, more than 1 MiB, the most tcbuild accepts for one`);
    this.bytes += size;
    if (this.bytes > MAX_META_BYTES) {
      throw this.refuse(
        `the PAX headers and long names before one entry${this.where} add up to more than 1 MiB, the most tcbuild ` +
          `accepts (the last is ${record})`,
      );
    }
  }

  /** After parsing a PAX header of `count` records. */
  countPax(count: number): void {
    this.records += count;
    if (this.records > MAX_PAX_RECORDS) {
      throw this.refuse(
        `the PAX headers before one entry${this.where} hold more than ${MAX_PAX_RECORDS} records, the most tcbuild ` +
          `accepts`,
      );
    }
  }

  /** The entry they described has come: the next one starts afresh. */
  reset(): void {
    this.bytes = 0;
    this.records = 0;
  }

  /** " of ARCHIVE" for messages, or nothing. */
  get where(): string {
    return this.what === undefined ? '' : ` of ${this.what}`;
  }

  private refuse(message: string): InvalidInputError {
    return new InvalidInputError(message, {
      hint: 'no tool writes such records for a real file: the archive is broken or hostile',
    });
  }
}
