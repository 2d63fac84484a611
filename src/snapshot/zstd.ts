import { availableParallelism } from 'node:os';
import type { Transform } from 'node:stream';
import { codecTransform } from './codec-transform.js';
import { newZstdStream } from './native.js';

/**
 * Zstandard through the addon. Compression always uses zstd's multi-threaded mode, whose output
 * is the same for any number of workers, so the bytes depend only on the input and the level.
 */
function zstdTransform(compress: boolean, level: number): Transform {
  return codecTransform(
    () => newZstdStream(compress, level, availableParallelism()),
    'zstd',
    compress,
    "install Debian's libzstd1, or use --compression gzip",
  );
}

export function createZstdCompress(level: number): Transform {
  return zstdTransform(true, level);
}

export function createZstdDecompress(): Transform {
  return zstdTransform(false, 0);
}
