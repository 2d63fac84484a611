import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { InvalidInputError, NotFoundError } from '../errors.js';
import { tooLarge } from '../registry/transport.js';
import { MetaRecordBudget, parsePaxRecords } from '../snapshot/tar-format.js';

const BLOCK = 512;
/** Entries indexed (each held in memory): an image archive has a few per blob, at most some thousands. */
export const MAX_ARCHIVE_ENTRIES = 100_000;

interface TarEntry {
  offset: number;
  size: number;
  /** For a symlink or hard link: the entry it points at. */
  link?: string;
}

function field(block: Buffer, start: number, length: number): string {
  const raw = block.subarray(start, start + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

function numeric(block: Buffer, start: number, length: number): number {
  if (block[start]! & 0x80) return Number(block.subarray(start + 1, start + length).readBigUInt64BE(length - 9));
  const text = field(block, start, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

/** The header checksum: the sum of its bytes with the checksum field counted as spaces. */
function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return numeric(block, 148, 8) === sum;
}

/** An entry name or link target as a path from the archive's root: '..' stops at the root, as in a chroot. */
function normalize(name: string): string {
  return posix.normalize(`/${name}`).slice(1).replace(/\/$/, '');
}

/**
 * The entries of an uncompressed tar file by name, read from its headers alone: each entry's
 * bytes are then streamed straight from the file, with no extraction (what an oci-archive or
 * docker-archive needs: random access to blobs). Nothing but the tar file is ever read: a link
 * entry leads to another entry of the archive, resolved from its root.
 */
export class TarIndex {
  private constructor(
    readonly path: string,
    /** Names the archive in messages: "docker-archive:/tmp/app.tar". */
    readonly what: string,
    private readonly entries: Map<string, TarEntry>,
  ) {}

  static async open(path: string, what: string): Promise<TarIndex> {
    const fh = await open(path, 'r');
    try {
      return new TarIndex(path, what, await scan(fh, what));
    } finally {
      await fh.close();
    }
  }

  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  sizeOf(name: string): number | undefined {
    return this.resolve(name)?.size;
  }

  /** The entry's bytes (following links), unverified: callers check them against a digest. */
  read(name: string): Readable {
    const entry = this.resolve(name);
    if (!entry) {
      const link = this.entries.get(normalize(name))?.link;
      if (link !== undefined) throw new NotFoundError(`${this.what}: "${name}" is a link to "${link}", which is not in the archive (links lead only to other entries of it)`);
      throw new NotFoundError(`${this.what} has no entry "${name}"`, { hint: 'is it an archive of the kind you named (oci-archive, docker-archive)?' });
    }
    return entry.size === 0 ? Readable.from([]) : createReadStream(this.path, { start: entry.offset, end: entry.offset + entry.size - 1 });
  }

  async readBuffer(name: string, limit: number): Promise<Buffer> {
    const entry = this.resolve(name);
    if (entry && entry.size > limit) throw tooLarge(`"${name}" of ${this.what}`, limit, entry.size);
    const chunks: Buffer[] = [];
    for await (const chunk of this.read(name) as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  private resolve(name: string, depth = 0): TarEntry | undefined {
    const entry = this.entries.get(normalize(name));
    if (!entry?.link || depth > 8) return entry;
    return this.resolve(entry.link, depth + 1);
  }
}

async function scan(fh: FileHandle, what: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const block = Buffer.alloc(BLOCK);
  let pending: { path?: string; linkpath?: string; size?: string } = {};
  const budget = new MetaRecordBudget(what);
  for (let offset = 0, count = 0; ; count++) {
    if (count > MAX_ARCHIVE_ENTRIES) {
      throw new InvalidInputError(`${what} has more than ${MAX_ARCHIVE_ENTRIES} entries, more than tcbuild reads: no image archive has that many`);
    }
    const { bytesRead } = await fh.read(block, 0, BLOCK, offset);
    if (bytesRead < BLOCK || block.every((b) => b === 0)) return entries;
    if (!checksumOk(block)) {
      throw new InvalidInputError(`${what} is not a tar archive (or is compressed)`, { hint: 'decompress it first (gunzip, zstd -d)' });
    }
    const type = String.fromCharCode(block[156]!);
    const size = pending.size !== undefined ? Number(pending.size) : numeric(block, 124, 12);
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidInputError(`${what} is not a valid tar archive: an entry's size is not a byte count`);
    const dataAt = offset + BLOCK;
    offset = dataAt + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x' || type === 'L' || type === 'K') {
      budget.admit(type, size);
      const data = Buffer.alloc(size);
      await fh.read(data, 0, size, dataAt);
      if (type === 'x') {
        for (const [key, value] of parsePaxRecords(data, budget)) {
          if (key === 'path' || key === 'linkpath' || key === 'size') pending[key] = value.toString('utf8');
        }
      } else pending = { ...pending, [type === 'L' ? 'path' : 'linkpath']: field(data, 0, size) };
      continue;
    }
    const prefix = field(block, 345, 155);
    const name = pending.path ?? (prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100));
    const linkname = pending.linkpath ?? field(block, 157, 100);
    pending = {};
    budget.reset();
    if (type === '0' || type === '\0' || type === '7') entries.set(normalize(name), { offset: dataAt, size });
    else if (type === '1') entries.set(normalize(name), { offset: 0, size: 0, link: linkname });
    else if (type === '2') entries.set(normalize(name), { offset: 0, size: 0, link: linkname.startsWith('/') ? linkname : posix.join(posix.dirname(normalize(name)), linkname) });
  }
}
