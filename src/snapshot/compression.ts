import type { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InvalidInputError } from '../errors.js';
import { MediaType, type LayerCompression } from '../image/media-types.js';
import { codecTransform } from './codec-transform.js';
import { newDecompressStream, type ArchiveDecompression } from './native.js';
import { ParallelGzip } from './parallel-gzip.js';
import { createZstdCompress, createZstdDecompress } from './zstd.js';

const LEVELS: Record<Exclude<LayerCompression, 'none'>, { min: number; max: number; default: number }> = {
  gzip: { min: 0, max: 9, default: 6 },
  zstd: { min: 1, max: 22, default: 3 },
};

/** What a tar stream may be compressed with: what layers use, and bzip2 or xz (ADD of a local archive). */
export type StreamCompression = LayerCompression | ArchiveDecompression;

/** The Debian package of the library the addon loads for each archive format. */
const ARCHIVE_LIBRARIES: Record<ArchiveDecompression, string> = { bzip2: 'libbz2-1.0', xz: 'liblzma5' };

export const LAYER_COMPRESSIONS: readonly LayerCompression[] = ['gzip', 'zstd', 'none'];

export function layerMediaType(compression: LayerCompression): string {
  return { gzip: MediaType.ociLayerGzip, zstd: MediaType.ociLayerZstd, none: MediaType.ociLayer }[compression];
}

/** The level to use: `level` checked against what the algorithm takes, or its default. */
export function compressionLevel(compression: LayerCompression, level: number | undefined): number {
  if (compression === 'none') return 0;
  const range = LEVELS[compression];
  if (level === undefined) return range.default;
  if (!Number.isInteger(level) || level < range.min || level > range.max) {
    throw new InvalidInputError(`${compression} compression level must be ${range.min}-${range.max}, not ${level}`);
  }
  return level;
}

/** A compressor for layer tars, or undefined for uncompressed layers. */
export function createCompressor(compression: LayerCompression, level?: number): Transform | undefined {
  const checked = compressionLevel(compression, level);
  if (compression === 'gzip') return new ParallelGzip(checked);
  if (compression === 'zstd') return createZstdCompress(checked);
  return undefined;
}

export function createDecompressor(compression: StreamCompression): Transform | undefined {
  if (compression === 'gzip') return createGunzip();
  if (compression === 'zstd') return createZstdDecompress();
  if (compression === 'bzip2' || compression === 'xz') {
    return codecTransform(
      () => newDecompressStream(compression),
      compression,
      false,
      `install Debian's ${ARCHIVE_LIBRARIES[compression]}`,
    );
  }
  return undefined;
}

export function parseLayerCompression(text: string): LayerCompression {
  if ((LAYER_COMPRESSIONS as readonly string[]).includes(text)) return text as LayerCompression;
  throw new InvalidInputError(`unknown compression "${text}": expected ${LAYER_COMPRESSIONS.join(', ')}`);
}
