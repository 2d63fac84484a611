import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { cannotRead, InvalidInputError, NotFoundError } from '../errors.js';
import { tooLarge } from '../stream/read-limited.js';
import {
  BLOCK_SIZE,
  MetaRecordBudget,
  decodeHeaderBlock,
  isZeroBlock,
  parsePaxRecords,
  type RawHeader,
} from '../snapshot/tar-format.js';

/** Entries indexed (each held in memory): an image archive has a few per blob, at most some thousands. */
export const MAX_ARCHIVE_ENTRIES = 100_000;

interface TarEntry {
  offset: number;
  size: number;
  /** For a symlink or hard link: the entry it points at. */
  link?: string;
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
    const fh = await open(path, 'r').catch((err: unknown) => {
      throw cannotRead(path, err);
    });
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
      if (link !== undefined)
        throw new NotFoundError(
          `${this.what}: "${name}" is a link to "${link}", which is not in the archive (links lead only to other ` +
            `entries of it)`,
        );
      throw new NotFoundError(`${this.what} has no entry "${name}"`, {
        hint: 'is it an archive of the kind you named (oci-archive, docker-archive)?',
      });
    }
    return entry.size === 0
      ? Readable.from([])
      : createReadStream(this.path, { start: entry.offset, end: entry.offset + entry.size - 1 });
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

/** A header block read with the layer reader's decoder; any fault in it names the archive. */
function header(block: Buffer, what: string): RawHeader {
  try {
    return decodeHeaderBlock(block);
  } catch (err) {
    if (!(err instanceof InvalidInputError)) throw err;
    throw new InvalidInputError(`${what} is not a tar archive (or is compressed): ${err.message}`, {
      hint: 'decompress it first (gunzip, zstd -d)',
    });
  }
}

/** Text up to the first NUL (a GNU long name record). */
function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.subarray(0, end < 0 ? data.length : end).toString('utf8');
}

async function scan(fh: FileHandle, what: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  const block = Buffer.alloc(BLOCK_SIZE);
  let pending: { path?: string; linkpath?: string; size?: string } = {};
  const budget = new MetaRecordBudget(what);
  for (let offset = 0, count = 0; ; count++) {
    if (count > MAX_ARCHIVE_ENTRIES) {
      throw new InvalidInputError(
        `${what} has more than ${MAX_ARCHIVE_ENTRIES} entries, more than tcbuild reads: no image archive has that many`,
      );
    }
    const { bytesRead } = await fh.read(block, 0, BLOCK_SIZE, offset);
    if (bytesRead < BLOCK_SIZE || isZeroBlock(block)) return entries;
    const { typeflag: type, entry } = header(block, what);
    const size = pending.size !== undefined ? Number(pending.size) : entry.size;
    if (!Number.isSafeInteger(size) || size < 0)
      throw new InvalidInputError(`${what} is not a valid tar archive: an entry's size is not a byte count`);
    const dataAt = offset + BLOCK_SIZE;
    offset = dataAt + Math.ceil(size / BLOCK_SIZE) * BLOCK_SIZE;
    if (type === 'x' || type === 'L' || type === 'K') {
      budget.admit(type, size);
      const data = Buffer.alloc(size);
      await fh.read(data, 0, size, dataAt);
      if (type === 'x') {
        for (const [key, value] of parsePaxRecords(data, budget)) {
          if (key === 'path' || key === 'linkpath' || key === 'size') pending[key] = value.toString('utf8');
        }
      } else pending = { ...pending, [type === 'L' ? 'path' : 'linkpath']: cString(data) };
      continue;
    }
    const name = pending.path ?? entry.name;
    const linkname = pending.linkpath ?? entry.linkname;
    pending = {};
    budget.reset();
    if (entry.type === 'file' && type !== 'g') entries.set(normalize(name), { offset: dataAt, size });
    else if (entry.type === 'hardlink') entries.set(normalize(name), { offset: 0, size: 0, link: linkname });
    else if (entry.type === 'symlink')
      entries.set(normalize(name), {
        offset: 0,
        size: 0,
        link: linkname.startsWith('/') ? linkname : posix.join(posix.dirname(normalize(name)), linkname),
      });
  }
}
