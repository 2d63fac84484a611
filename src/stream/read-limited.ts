import type { Readable } from 'node:stream';
import { InvalidInputError } from '../errors.js';

/** A body read whole into memory, but never more than `limit` bytes of it: reading stops at the first byte too many. */
export async function readLimited(body: Readable, limit: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw tooLarge(what, limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** `what` (a manifest, a config, a response) is bigger than tcbuild reads into memory for one. */
export function tooLarge(what: string, limit: number, size?: number): InvalidInputError {
  const limitText = limit % (1024 * 1024) === 0 ? `${limit / (1024 * 1024)} MiB` : `${limit} bytes`;
  const sizeText = size === undefined ? 'larger than' : `${size} bytes, more than`;
  return new InvalidInputError(`${what} is ${sizeText} ${limitText}, the most tcbuild accepts for it`, {
    hint: 'no image manifest, index or config is that big: the source is broken or hostile',
  });
}
