import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { backoffDelay, isRetryableError, type RetryPolicy } from './retry.js';

type OpenFrom = (offset: number) => Promise<{ body: Readable; start: number }>;

async function* resume(first: Readable, openFrom: OpenFrom, policy: RetryPolicy): AsyncGenerator<Buffer> {
  let body = first;
  let start = 0;
  let offset = 0;
  for (let failures = 0; ; ) {
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        const skip = Math.max(0, offset - start);
        start += chunk.length;
        if (skip >= chunk.length) continue;
        offset += chunk.length - skip;
        yield skip > 0 ? chunk.subarray(skip) : chunk;
      }
      return;
    } catch (err) {
      body.destroy();
      if (!isRetryableError(err) || ++failures >= policy.maxAttempts) throw err;
      await sleep(backoffDelay(policy, failures));
      ({ body, start } = await openFrom(offset));
    }
  }
}

/**
 * The bytes of `first`, and when its connection drops, of `openFrom(bytes so far)` after it:
 * a download picks up where it stopped instead of starting again. Bytes a server sends again
 * (it ignored the Range) are skipped.
 */
export function resumingStream(first: Readable, openFrom: OpenFrom, policy: RetryPolicy): Readable {
  return Readable.from(resume(first, openFrom, policy), { objectMode: false });
}
