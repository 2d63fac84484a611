import { createReadStream } from 'node:fs';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Digest } from '../image/digest.js';
import type { ContentStore } from './store.js';

export interface BlobProblem {
  digest: Digest;
  /** What is wrong, for people. */
  problem: string;
}

/** Re-hashes every blob in the store: each must hash to its name. */
export async function verifyBlobs(blobs: ContentStore): Promise<{ checked: number; problems: BlobProblem[] }> {
  let checked = 0;
  const problems: BlobProblem[] = [];
  for await (const digest of blobs.list()) {
    const hash = createHash('sha256');
    await pipeline(createReadStream(blobs.path(digest)), hash);
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== digest) problems.push({ digest, problem: `its content hashes to ${actual}` });
    checked++;
  }
  return { checked, problems };
}
