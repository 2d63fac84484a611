import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { InvalidInputError } from '../errors.js';

/** `sha256:<64 lowercase hex>` — validated before it ever becomes a path or a URL. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

/**
 * The one check of a digest that came from outside (a manifest, an index, a config, an archive,
 * a registry header, an argument): `sha256:` and exactly 64 lowercase hex digits, nothing else.
 * `what` says where it was found, for the error.
 */
export function parseDigest(value: unknown, what: string): Digest {
  if (typeof value === 'string' && isDigest(value)) return value;
  throw new InvalidInputError(`${what}: ${quoted(value)} is not a valid digest (${whyNotDigest(value)})`, {
    hint:
      'a digest is "sha256:" followed by 64 lowercase hexadecimal digits; whatever wrote this one is broken or ' +
      'hostile, so tcbuild does not use it',
  });
}

function whyNotDigest(value: unknown): string {
  if (typeof value !== 'string') return `a digest is a string, not ${value === null ? 'null' : typeof value}`;
  const colon = value.indexOf(':');
  const algorithm = colon < 0 ? '' : value.slice(0, colon);
  const hex = value.slice(colon + 1);
  if (algorithm === 'sha512') return 'only sha256 digests are supported';
  if (algorithm !== 'sha256')
    return colon < 0 ? 'it names no algorithm' : `the algorithm "${algorithm.slice(0, 20)}" is not sha256`;
  if (/^[a-fA-F0-9]+$/.test(hex) && hex !== hex.toLowerCase()) return 'the hex digits must be lowercase';
  if (!/^[a-f0-9]*$/.test(hex)) return 'it holds characters that are not hex digits';
  return `${hex.length} hex digits instead of 64`;
}

/** A value from untrusted input, short and with control characters escaped, for a message. */
function quoted(value: unknown): string {
  if (typeof value !== 'string') return String(typeof value === 'object' && value !== null ? '(an object)' : value);
  return JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}…` : value);
}

/**
 * The hex part of a digest, which names a blob file (blobs/sha256/<hex>) or a tag: refused unless the digest is valid,
 * wherever it came from.
 */
export function digestHex(d: Digest): string {
  return parseDigest(d, 'blob name').slice('sha256:'.length);
}

export function sha256(data: string | Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** A pass-through stream that counts and hashes what flows through it. */
export class DigestingStream extends Transform {
  private readonly hash: Hash = createHash('sha256');
  size = 0;
  private result: Digest | undefined;

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.result = `sha256:${this.hash.digest('hex')}`;
    done();
  }

  /** Available once the stream has ended. */
  digest(): Digest {
    if (this.result === undefined) throw new Error('DigestingStream: digest() before end');
    return this.result;
  }
}
