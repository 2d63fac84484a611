import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { promisify } from 'node:util';
import { constants, crc32, deflateRaw } from 'node:zlib';
import pLimit from 'p-limit';

const deflateRawAsync = promisify(deflateRaw);

/** Input bytes per independently deflated block (pigz's default). */
export const GZIP_BLOCK_SIZE = 512 * 1024;
/** Deflate's window: each block is primed with this much of the input before it. */
const WINDOW_SIZE = 32 * 1024;
/**
 * Room for a whole deflated block (incompressible data grows a little), so each block is one job on the thread pool.
 */
const DEFLATE_OUTPUT_SIZE = GZIP_BLOCK_SIZE + 16 * 1024;

/** Deflate jobs of every layer being compressed share the cores. */
const cores = availableParallelism();
const deflateSlots = pLimit(cores);
/** Blocks a stream may have queued or running: enough to keep the cores busy, memory flat. */
const MAX_IN_FLIGHT = cores + 2;

/** mtime 0, no name, OS = Unix: the same header everywhere. */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]);

/**
 * gzip that uses every core, as pigz does: the input is cut into fixed-size blocks, each deflated
 * on the thread pool with the 32 KiB before it as dictionary and ended with a sync flush; the raw
 * deflate pieces are concatenated under one header and trailer. Block boundaries depend only on
 * the input, so the bytes are the same on any number of cores.
 */
export class ParallelGzip extends Transform {
  private pending: Buffer[] = [];
  private pendingSize = 0;
  private dictionary: Buffer | undefined;
  private crc = 0;
  private inputSize = 0;
  private readonly inFlight: Array<Promise<Buffer>> = [];

  constructor(private readonly level: number) {
    super();
    this.push(GZIP_HEADER);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.crc = crc32(chunk, this.crc);
    this.inputSize += chunk.length;
    this.pending.push(chunk);
    this.pendingSize += chunk.length;
    this.dispatchFullBlocks().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    this.finish().then(() => done(), done);
  }

  /** A full block is sent only once more input follows it: the last block is deflated differently. */
  private async dispatchFullBlocks(): Promise<void> {
    while (this.pendingSize > GZIP_BLOCK_SIZE) await this.dispatch(this.takeBytes(GZIP_BLOCK_SIZE), false);
  }

  private async finish(): Promise<void> {
    await this.dispatch(this.takeBytes(this.pendingSize), true);
    while (this.inFlight.length > 0) this.push(await this.inFlight.shift()!);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.inputSize % 2 ** 32, 4);
    this.push(trailer);
  }

  private async dispatch(block: Buffer, last: boolean): Promise<void> {
    const options = {
      level: this.level,
      chunkSize: DEFLATE_OUTPUT_SIZE,
      finishFlush: last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH,
      ...(this.dictionary ? { dictionary: this.dictionary } : {}),
    };
    this.dictionary = block.subarray(Math.max(0, block.length - WINDOW_SIZE));
    const job = deflateSlots(() => deflateRawAsync(block, options));
    job.catch(() => undefined); // awaited in order below; a later block may fail first
    this.inFlight.push(job);
    while (this.inFlight.length >= MAX_IN_FLIGHT) this.push(await this.inFlight.shift()!);
  }

  private takeBytes(n: number): Buffer {
    const all = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingSize);
    this.pending = n < all.length ? [all.subarray(n)] : [];
    this.pendingSize -= n;
    return all.subarray(0, n);
  }
}
