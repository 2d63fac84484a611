import { availableParallelism } from 'node:os';
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidInputError, TcbuildError, messageOf } from '../errors.js';
import { newZstdStream, type NativeZstdStream, type ZstdStepResult } from './native.js';

/**
 * Zstandard as a Transform, through the addon (Node 20 has none). Work runs on the libuv thread
 * pool; compression always uses zstd's multi-threaded mode, whose output is the same for any
 * number of workers, so the bytes depend only on the input and the level.
 */
class ZstdTransform extends Transform {
  private readonly native: NativeZstdStream;
  /** Decompressing: the input so far ends exactly at the end of a frame. */
  private atFrameEnd = false;

  constructor(private readonly compress: boolean, level: number) {
    super();
    try {
      this.native = newZstdStream(compress, level, availableParallelism());
    } catch (err) {
      throw new TcbuildError(`zstd is not available: ${messageOf(err)}`, { hint: 'install Debian\'s libzstd1, or use --compression gzip' });
    }
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.feed(chunk, false).then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    this.feed(Buffer.alloc(0), true).then(() => done(), done);
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // A run() in progress keeps the context alive; it is freed when collected.
    try {
      this.native.close();
    } catch {
      // busy: see above
    }
    done(err);
  }

  private async feed(input: Buffer, end: boolean): Promise<void> {
    if (end && !this.compress && this.atFrameEnd) return;
    let rest = input;
    for (;;) {
      const { output, consumed, finished } = await this.step(rest, end);
      if (output.length > 0) this.push(output);
      rest = rest.subarray(consumed);
      if (!this.compress && (consumed > 0 || output.length > 0)) this.atFrameEnd = finished;
      if (rest.length > 0) continue;
      if (!end || finished) return;
      if (!this.compress && output.length === 0) {
        throw new InvalidInputError('the zstd stream ends in the middle of a frame (truncated download or corrupt blob)');
      }
    }
  }

  private step(input: Buffer, end: boolean): Promise<ZstdStepResult> {
    return new Promise((resolve, reject) =>
      this.native.run(input, end, (err, result) => (err ? reject(this.compress ? err : new InvalidInputError(`not a valid zstd stream: ${err.message}`)) : resolve(result))),
    );
  }
}

export function createZstdCompress(level: number): Transform {
  return new ZstdTransform(true, level);
}

export function createZstdDecompress(): Transform {
  return new ZstdTransform(false, 0);
}
