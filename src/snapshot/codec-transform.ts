import { Transform, type TransformCallback } from 'node:stream';
import { InvalidInputError, TcbuildError, messageOf } from '../errors.js';
import type { CodecStepResult, NativeCodecStream } from './native.js';

/** A CodecTransform over the native stream `open` makes; a library that cannot be loaded is an error with `hint`. */
export function codecTransform(
  open: () => NativeCodecStream,
  format: string,
  compress: boolean,
  hint: string,
): Transform {
  let native: NativeCodecStream;
  try {
    native = open();
  } catch (err) {
    throw new TcbuildError(`${format} is not available: ${messageOf(err)}`, { hint });
  }
  return new CodecTransform(native, format, compress);
}

/**
 * A streaming codec of the addon as a Transform (Node 20 has neither zstd, bzip2 nor xz). Each
 * step runs on the libuv thread pool and gives at most a bounded amount of output, so a chunk
 * goes through as many steps as it takes.
 */
export class CodecTransform extends Transform {
  /** Decompressing: the input so far ends exactly where a frame (or stream) does. */
  private atFrameEnd = false;

  constructor(
    private readonly native: NativeCodecStream,
    /** The format, as error messages name it. */
    private readonly format: string,
    private readonly compress: boolean,
  ) {
    super();
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
        throw new InvalidInputError(
          `the ${this.format} stream ends in the middle of a frame (truncated download or corrupt file)`,
        );
      }
    }
  }

  private step(input: Buffer, end: boolean): Promise<CodecStepResult> {
    return new Promise((resolve, reject) =>
      this.native.run(input, end, (err, result) =>
        err
          ? reject(this.compress ? err : new InvalidInputError(`not a valid ${this.format} stream: ${err.message}`))
          : resolve(result),
      ),
    );
  }
}
