import { mkdir, readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { isErrno } from '../errors.js';
import { writeFileAtomic } from '../content/atomic-file.js';
import { digestHex, type Digest } from '../image/digest.js';
import type { Descriptor } from '../image/types.js';

export interface LayerRecord {
  descriptor: Descriptor;
  diffId: Digest;
  /** When a build step made the layer (config time format); a cache hit keeps it. */
  created?: string;
}

/** What one solved step left behind: its committed snapshot and the layer it added. */
export interface CacheRecord {
  snapshot: string;
  layer: LayerRecord;
}

/** Cache keys → records, one small JSON file each under `root/cache`. */
export class BuildCache {
  private readonly dir: string;

  constructor(root: string) {
    this.dir = join(root, 'cache');
  }

  async get(key: Digest): Promise<CacheRecord | undefined> {
    try {
      return JSON.parse(await readFile(join(this.dir, digestHex(key)), 'utf8')) as CacheRecord;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  /** Marks a record as just used: the GC drops the least recently used records first. */
  async touch(key: Digest): Promise<void> {
    const now = new Date();
    await utimes(join(this.dir, digestHex(key)), now, now).catch(() => undefined);
  }

  async set(key: Digest, record: CacheRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await writeFileAtomic(join(this.dir, digestHex(key)), JSON.stringify(record));
  }
}
