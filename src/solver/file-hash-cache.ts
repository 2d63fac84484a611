import { createReadStream, type Stats } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { writeFileAtomic } from '../content/atomic-file.js';
import { sha256 } from '../image/digest.js';

/** Files up to this size are read whole, bigger ones streamed. */
const SMALL_FILE = 1 << 20;

interface Entry {
  size: number;
  mtimeMs: number;
  ino: number;
  hash: string;
}

/**
 * Content hashes of host files, remembered by path, size, mtime and inode across builds (one JSON
 * file per context directory under the store root), so an unchanged file is never read twice.
 */
export class FileHashCache {
  private entries = new Map<string, Entry>();
  private dirty = false;

  private constructor(private readonly file: string) {}

  static async open(root: string, contextDir: string): Promise<FileHashCache> {
    const cache = new FileHashCache(join(root, 'context-hashes', `${sha256(contextDir).slice('sha256:'.length)}.json`));
    try {
      cache.entries = new Map(Object.entries(JSON.parse(await readFile(cache.file, 'utf8')) as Record<string, Entry>));
    } catch {
      // no cache yet, or a damaged one: start empty
    }
    return cache;
  }

  /** The remembered hash when the file is unchanged by size, mtime and inode. */
  known(path: string, st: Stats): string | undefined {
    const known = this.entries.get(path);
    return known && known.size === st.size && known.mtimeMs === st.mtimeMs && known.ino === st.ino
      ? known.hash
      : undefined;
  }

  async hash(path: string, st: Stats): Promise<string> {
    const known = this.known(path, st);
    if (known !== undefined) return known;
    const hash = createHash('sha256');
    if (st.size <= SMALL_FILE) hash.update(await readFile(path));
    else for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
    const entry = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, hash: hash.digest('hex') };
    this.entries.set(path, entry);
    this.dirty = true;
    return entry.hash;
  }

  async save(): Promise<void> {
    if (!this.dirty) return;
    await mkdir(join(this.file, '..'), { recursive: true });
    await writeFileAtomic(this.file, JSON.stringify(Object.fromEntries(this.entries)));
    this.dirty = false;
  }
}
