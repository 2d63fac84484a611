import { pipeline, type Readable, type TransformCallback } from 'node:stream';
import { DigestMismatchError } from '../errors.js';
import { DigestingStream } from '../image/digest.js';
import type { Descriptor } from '../image/types.js';

/**
 * Passes bytes through while checking them against a descriptor: fails as soon as there are too
 * many, and at the end if there are too few or the digest differs. `what` names the source.
 */
export class VerifyingStream extends DigestingStream {
  constructor(
    private readonly expected: Pick<Descriptor, 'digest' | 'size'>,
    private readonly what: string,
  ) {
    super();
  }

  override _transform(chunk: Buffer, enc: BufferEncoding, done: TransformCallback): void {
    if (this.size + chunk.length > this.expected.size) {
      done(this.mismatch(`more than the ${this.expected.size} bytes its descriptor says`));
      return;
    }
    super._transform(chunk, enc, done);
  }

  override _flush(done: TransformCallback): void {
    super._flush((err) => {
      if (err) return done(err);
      if (this.size !== this.expected.size)
        return done(this.mismatch(`${this.size} bytes, not the ${this.expected.size} its descriptor says`));
      if (this.digest() !== this.expected.digest) return done(this.mismatch(`content with digest ${this.digest()}`));
      done();
    });
  }

  private mismatch(got: string): DigestMismatchError {
    return new DigestMismatchError(`${this.what} sent ${got} for ${this.expected.digest}`, {
      hint:
        'the registry or something between it and you corrupted the data; try again, and report it to the ' +
        'registry operator if it persists',
    });
  }
}

/** `source` checked against `expected` as it streams; errors of either reach the reader. */
export function verified(source: Readable, expected: Pick<Descriptor, 'digest' | 'size'>, what: string): Readable {
  const verifier = new VerifyingStream(expected, what);
  pipeline(source, verifier, () => undefined);
  return verifier;
}
