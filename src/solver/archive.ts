import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { InvalidInputError } from '../errors.js';
import { applyLayer, createDecompressor, type StreamCompression } from '../snapshot/index.js';

const MAGIC: { compression: StreamCompression; bytes: number[] }[] = [
  { compression: 'gzip', bytes: [0x1f, 0x8b] },
  { compression: 'zstd', bytes: [0x28, 0xb5, 0x2f, 0xfd] },
  { compression: 'bzip2', bytes: [0x42, 0x5a, 0x68] },
  { compression: 'xz', bytes: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00] },
];

const TAR_HEADER = 512;

/**
 * ADD of a local file: when its content (not its name) is a tar — plain, gzip, zstd, bzip2 or
 * xz — it is unpacked into `dir` by the snapshot module's safe applier, and the paths its entries
 * name ('a/b') are returned: the other directories in `dir` are only implied. Any other file is
 * left to be copied as it is (undefined).
 */
export async function unpackArchive(path: string, dir: string): Promise<ReadonlySet<string> | undefined> {
  const head = await readHead(path, 16);
  const compression = MAGIC.find((m) => m.bytes.every((b, i) => head[i] === b))?.compression ?? 'none';
  if (!isTarHeader(await decompressedHead(path, compression))) return undefined;
  const { paths } = await applyLayer(createReadStream(path), compression, dir, { skipNonDirectoryRoot: true }).catch(
    (err: unknown) => {
      throw err instanceof InvalidInputError
        ? new InvalidInputError(`cannot unpack ${path}: ${err.message}`, { cause: err, hint: err.hint })
        : err;
    },
  );
  return paths;
}

async function readHead(path: string, length: number): Promise<Buffer> {
  const file = await open(path, 'r');
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await file.read(buf, 0, length, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await file.close();
  }
}

/**
 * The first tar header's worth of decompressed bytes (fewer when the content is shorter or not compressed as it
 * claims).
 */
async function decompressedHead(path: string, compression: StreamCompression): Promise<Buffer> {
  const decompressor = createDecompressor(compression);
  const source = createReadStream(path);
  const stream: Readable = decompressor ? source.pipe(decompressor) : source;
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= TAR_HEADER) break;
    }
  } catch {
    // not really compressed: not an archive
  } finally {
    source.destroy();
    decompressor?.destroy();
  }
  return Buffer.concat(chunks).subarray(0, TAR_HEADER);
}

/** A tar header: its checksum field matches the sum of its bytes (the field counted as spaces). */
function isTarHeader(block: Buffer): boolean {
  if (block.length < TAR_HEADER) return false;
  const stored = parseInt(block.subarray(148, 156).toString('latin1').replace(/\0.*$/s, '').trim(), 8);
  if (Number.isNaN(stored)) return false;
  let sum = 0;
  for (let i = 0; i < TAR_HEADER; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
  return sum === stored;
}
