import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, type Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { pipeline } from 'node:stream/promises';
import { describe, test } from 'node:test';
import { constants, crc32, deflateRawSync, gunzipSync } from 'node:zlib';
import { InvalidInputError } from '../../src/errors.js';
import { compressionLevel, createCompressor, createDecompressor } from '../../src/snapshot/compression.js';
import { newZstdStream } from '../../src/snapshot/native.js';
import { unpackArchive } from '../../src/solver/archive.js';
import { GZIP_BLOCK_SIZE } from '../../src/snapshot/parallel-gzip.js';
import { run, withTempDir } from './helpers.js';

/** Half random, half zeros: what layers look like to a compressor (binaries and padding). */
function sample(size: number): Buffer {
  const data = Buffer.alloc(size);
  randomBytes(Math.floor(size / 2)).copy(data);
  return data;
}

async function through(
  compression: 'gzip' | 'zstd',
  direction: 'compress' | 'decompress',
  data: Buffer,
  chunk = 64 * 1024,
  level?: number,
): Promise<Buffer> {
  return transformed(
    direction === 'compress' ? createCompressor(compression, level)! : createDecompressor(compression)!,
    data,
    chunk,
  );
}

/** `data` through `transform`, fed in pieces of `chunk` bytes. */
async function transformed(transform: Transform, data: Buffer, chunk = 64 * 1024): Promise<Buffer> {
  const chunks = Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) =>
    data.subarray(i * chunk, (i + 1) * chunk),
  );
  const [out] = await Promise.all([buffer(transform), pipeline(Readable.from(chunks), transform)]);
  return out;
}

/** What the block-parallel gzip must produce: each block deflated alone, primed with the 32 KiB before it. */
function sequentialReference(data: Buffer, level: number): Buffer {
  const parts: Buffer[] = [];
  for (let start = 0; ; start += GZIP_BLOCK_SIZE) {
    const last = start + GZIP_BLOCK_SIZE >= data.length;
    const dictionary = start === 0 ? undefined : data.subarray(start - 32 * 1024, start);
    parts.push(
      deflateRawSync(data.subarray(start, start + GZIP_BLOCK_SIZE), {
        level,
        finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
        ...(dictionary ? { dictionary } : {}),
      }),
    );
    if (last) return Buffer.concat(parts);
  }
}

describe('block-parallel gzip', () => {
  for (const size of [0, 1, GZIP_BLOCK_SIZE, GZIP_BLOCK_SIZE + 1, 5 * GZIP_BLOCK_SIZE + 12345]) {
    test(`${size} bytes: gunzip gives them back, and the bytes are the sequential reference's`, async () => {
      const data = sample(size);
      const gz = await through('gzip', 'compress', data);
      assert.deepEqual(gunzipSync(gz), data);
      assert.deepEqual(gz.subarray(10, -8), sequentialReference(data, 6));
      assert.deepEqual(await through('gzip', 'decompress', gz), data);
    });
  }

  test('the bytes do not depend on how the input is chunked', async () => {
    const data = sample(3 * GZIP_BLOCK_SIZE + 777);
    const [a, b, c] = await Promise.all(
      [1000, 64 * 1024, data.length].map((chunk) => through('gzip', 'compress', data, chunk)),
    );
    assert.deepEqual(a, b);
    assert.deepEqual(b, c);
  });

  test('GNU gzip accepts the stream', () =>
    withTempDir(async (dir) => {
      const data = sample(2 * GZIP_BLOCK_SIZE + 5);
      await writeFile(join(dir, 'x.gz'), await through('gzip', 'compress', data, 64 * 1024, 9));
      const { stdout } = await run('gzip', ['-dc', join(dir, 'x.gz')], { encoding: 'buffer', maxBuffer: 1 << 24 });
      assert.deepEqual(stdout, data);
    }));
});

describe('zstd', () => {
  test('round trip, and the zstd CLI reads what we write and we read what it writes', () =>
    withTempDir(async (dir) => {
      const data = sample(3 * 1024 * 1024 + 3);
      const ours = await through('zstd', 'compress', data);
      assert.deepEqual(await through('zstd', 'decompress', ours), data);
      await writeFile(join(dir, 'ours.zst'), ours);
      await writeFile(join(dir, 'plain'), data);
      const { stdout } = await run('zstd', ['-dc', join(dir, 'ours.zst')], { encoding: 'buffer', maxBuffer: 1 << 24 });
      assert.deepEqual(stdout, data);
      await run('zstd', ['-q', '-19', join(dir, 'plain'), '-o', join(dir, 'cli.zst')]);
      const cli = await import('node:fs/promises').then((fs) => fs.readFile(join(dir, 'cli.zst')));
      assert.deepEqual(await through('zstd', 'decompress', cli, 1000), data);
    }));

  test('a small input that expands to a lot comes out in bounded pieces', async () => {
    const zeros = Buffer.alloc(64 * 1024 * 1024);
    const compressed = await through('zstd', 'compress', zeros);
    assert.ok(compressed.length < 64 * 1024);
    const decompressor = createDecompressor('zstd')!;
    let largest = 0;
    let total = 0;
    decompressor.on('data', (chunk: Buffer) => {
      largest = Math.max(largest, chunk.length);
      total += chunk.length;
    });
    await pipeline(Readable.from([compressed]), decompressor);
    assert.equal(total, zeros.length);
    assert.ok(largest <= 2 * 1024 * 1024, `largest piece ${largest}`);
  });

  test('the bytes are the same for any number of worker threads', async () => {
    const data = sample(24 * 1024 * 1024);
    const compressWith = (workers: number): Promise<Buffer> =>
      new Promise((resolve, reject) => {
        const stream = newZstdStream(true, 3, workers);
        const parts: Buffer[] = [];
        const step = (rest: Buffer): void =>
          stream.run(rest, true, (err, r) => {
            if (err) return reject(err);
            parts.push(r.output);
            if (r.finished && r.consumed === rest.length) return resolve(Buffer.concat(parts));
            step(rest.subarray(r.consumed));
          });
        step(data);
      });
    const [one, two, four] = [await compressWith(1), await compressWith(2), await compressWith(4)];
    assert.deepEqual(one, two);
    assert.deepEqual(one, four);
  });

  test('truncated and corrupt streams are refused', async () => {
    const compressed = await through('zstd', 'compress', sample(1024 * 1024));
    await assert.rejects(through('zstd', 'decompress', compressed.subarray(0, compressed.length - 10)), /truncated/);
    await assert.rejects(through('zstd', 'decompress', Buffer.from('definitely not zstd')), InvalidInputError);
  });
});

describe('bzip2 and xz decompression (ADD of local archives)', () => {
  const CLI_SUFFIX = { bzip2: '.bz2', xz: '.xz' } as const;
  /** `data` compressed by the format's own command-line tool. */
  const compressedByCli = async (format: 'bzip2' | 'xz', dir: string, data: Buffer): Promise<Buffer> => {
    const plain = join(dir, `plain-${format}-${data.length}`);
    await writeFile(plain, data);
    await run(format, ['-q', '-k', '-f', plain]);
    return readFile(plain + CLI_SUFFIX[format]);
  };

  for (const format of ['bzip2', 'xz'] as const) {
    test(`${format}: reads what the CLI writes, also several streams one after another`, () =>
      withTempDir(async (dir) => {
        const data = sample(3 * 1024 * 1024 + 3);
        const compressed = await compressedByCli(format, dir, data);
        assert.deepEqual(await transformed(createDecompressor(format)!, compressed, 1000), data);
        assert.deepEqual(
          await transformed(createDecompressor(format)!, Buffer.concat([compressed, compressed])),
          Buffer.concat([data, data]),
        );
      }));

    test(`${format}: a small input that expands to a lot comes out in bounded pieces`, () =>
      withTempDir(async (dir) => {
        const zeros = Buffer.alloc(48 * 1024 * 1024);
        const decompressor = createDecompressor(format)!;
        let largest = 0;
        decompressor.on('data', (chunk: Buffer) => (largest = Math.max(largest, chunk.length)));
        assert.equal((await transformed(decompressor, await compressedByCli(format, dir, zeros))).length, zeros.length);
        assert.ok(largest <= 2 * 1024 * 1024, `largest piece ${largest}`);
      }));

    test(`${format}: truncated and corrupt streams are refused`, () =>
      withTempDir(async (dir) => {
        const compressed = await compressedByCli(format, dir, sample(1024 * 1024));
        await assert.rejects(
          transformed(createDecompressor(format)!, compressed.subarray(0, compressed.length - 10)),
          InvalidInputError,
        );
        await assert.rejects(
          transformed(createDecompressor(format)!, Buffer.from(`definitely not ${format}`)),
          InvalidInputError,
        );
      }));
  }

  /**
   * The stream with its first block header's LZMA2 dictionary size code set to `code` (the size is
   * 2 or 3 << (code / 2 + 11)): the data still decodes with any dictionary at least as large.
   */
  const withDictionaryCode = (xz: Buffer, code: number): Buffer => {
    const patched = Buffer.from(xz);
    const start = 12; // after the stream header
    const size = (patched[start]! + 1) * 4;
    const flags = patched[start + 1]!;
    let at = start + 2;
    const skipVli = () => {
      while (patched[at++]! & 0x80);
    };
    if (flags & 0x40) skipVli();
    if (flags & 0x80) skipVli();
    assert.equal(patched[at], 0x21, 'the first filter is LZMA2');
    assert.equal(patched[at + 1], 1, 'with one byte of properties');
    patched[at + 2] = code;
    patched.writeUInt32LE(crc32(patched.subarray(start, start + size - 4)), start + size - 4);
    return patched;
  };

  test('xz: a stream whose dictionary needs more than 256 MiB is refused before it is allocated; 64 MiB (xz -9) is read', () =>
    withTempDir(async (dir) => {
      const data = Buffer.concat([sample(64 * 1024), Buffer.from('end')]);
      const compressed = await compressedByCli('xz', dir, data);
      assert.deepEqual(await transformed(createDecompressor('xz')!, withDictionaryCode(compressed, 28)), data); // 64 MiB
      for (const code of [33, 37, 40]) {
        // 384 MiB, 1.5 GiB, 4 GiB
        await assert.rejects(
          transformed(createDecompressor('xz')!, withDictionaryCode(compressed, code)),
          (err: Error) => {
            assert.ok(err instanceof InvalidInputError, `${err.constructor.name}: ${err.message}`);
            assert.match(
              err.message,
              /^not a valid xz stream: xz: it needs more than 256 MiB of memory to decompress \(xz -9 needs 65 MiB\), more than tcbuild allows$/,
            );
            return true;
          },
        );
      }
      // ADD of such a file does not unpack it (it is copied as it is, as any file that does not decompress).
      const file = join(dir, 'huge-dictionary.tar.xz');
      await writeFile(file, withDictionaryCode(compressed, 37));
      assert.equal(await unpackArchive(file, dir), undefined);
    }));
});

test('compression levels are checked per algorithm', () => {
  assert.equal(compressionLevel('gzip', undefined), 6);
  assert.equal(compressionLevel('zstd', undefined), 3);
  assert.equal(compressionLevel('zstd', 19), 19);
  assert.throws(() => compressionLevel('gzip', 10), /gzip compression level must be 0-9, not 10/);
  assert.throws(() => compressionLevel('zstd', 0), /1-22/);
});
