import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { gzipSync } from 'node:zlib';
import { InvalidInputError } from '../../src/errors.js';
import { createCompressor, createDecompressor, type StreamCompression } from '../../src/snapshot/compression.js';
import { filesUnder, PropertyViolation, type FuzzTarget } from '../target.js';

const FORMATS = ['gzip', 'zstd', 'bzip2', 'xz'] as const satisfies readonly StreamCompression[];
const ROUND_TRIP = 4;
/** Decompressed bytes read from one input before it counts as a bomb that is refused. */
const OUTPUT_CAP = 64 << 20;

function chunks(data: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += size) out.push(data.subarray(at, at + size));
  return out;
}

/** Runs `chunks` through `transform`; the output, unless longer than OUTPUT_CAP. */
async function through(transform: NodeJS.ReadWriteStream, input: Buffer[]): Promise<Buffer> {
  const output: Buffer[] = [];
  let size = 0;
  await pipeline(
    Readable.from(input),
    transform,
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > OUTPUT_CAP) return done(new InvalidInputError("decompressed past the fuzzer's cap"));
        output.push(chunk);
        done();
      },
    }),
  );
  return Buffer.concat(output);
}

async function compress(format: 'gzip' | 'zstd', data: Buffer): Promise<Buffer> {
  return through(createCompressor(format)!, [data]);
}

/**
 * The archive decompressors (src/snapshot/compression.ts: Node's gunzip, the addon's zstd, bzip2
 * and xz, stepped by codec-transform.ts) on hostile streams, fed in chunks of the size the
 * second byte picks. With the round-trip bit, gzip and zstd compress the data first and must
 * give it back unchanged. The first byte picks the format.
 */
export const target: FuzzTarget = {
  description:
    'decompressors gzip/zstd/bzip2/xz (src/snapshot/compression.ts, native codecs) in any chunking; gzip/zstd round trips',
  async fuzz(data) {
    const mode = data[0] ?? 0;
    const format = FORMATS[mode % FORMATS.length]!;
    const chunkSize = 1 + (data[1] ?? 0) * 37;
    const payload = data.subarray(2);
    if (mode & ROUND_TRIP && (format === 'gzip' || format === 'zstd')) {
      const back = await through(createDecompressor(format)!, chunks(await compress(format, payload), chunkSize));
      if (!back.equals(payload))
        throw new PropertyViolation(`${format} gave back ${back.length} bytes for ${payload.length}, not the same`);
      return;
    }
    await through(createDecompressor(format)!, chunks(payload, chunkSize));
  },
  seeds: async () => {
    const tar = filesUnder('test/conformance/dockerfiles/add-tar-compressions', (name) => name === 't.tar')[0]!;
    const packed = filesUnder(
      'test/conformance/dockerfiles/add-tar-compressions',
      (name) => name === 't.tar.bz2' || name === 't.tar.xz',
    );
    const text = Buffer.from('hello hello hello, tcbuild\n'.repeat(20));
    const seed = (mode: number, chunk: number, body: Buffer) => Buffer.concat([Buffer.from([mode, chunk]), body]);
    return [
      seed(0, 0, gzipSync(tar)),
      seed(0, 3, Buffer.concat([gzipSync(text), gzipSync(text)])),
      seed(0, 200, Buffer.concat([gzipSync(text), Buffer.from('trailing')])),
      seed(1, 0, await compress('zstd', tar)),
      seed(1, 9, Buffer.concat([await compress('zstd', text), await compress('zstd', text)])),
      seed(2, 0, packed.find((b) => b[0] === 0x42)!),
      seed(3, 1, packed.find((b) => b[0] === 0xfd)!),
      seed(3, 255, Buffer.concat([packed.find((b) => b[0] === 0xfd)!, packed.find((b) => b[0] === 0xfd)!])),
      seed(ROUND_TRIP, 1, text),
      seed(ROUND_TRIP | 1, 7, tar),
    ];
  },
  dictionary: ['\x1f\x8b\x08', '\x28\xb5\x2f\xfd', 'BZh9', '1AY&SY', '\xfd7zXZ\x00', 'YZ', '\0\0\0\0'],
  maxLength: 16384,
  // Node's zlib refuses a bad gzip stream with its own error codes.
  expected: (err) =>
    typeof (err as { code?: unknown }).code === 'string' && (err as { code: string }).code.startsWith('Z_'),
};
