import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, unlink, readdir } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createHash, type Hash } from 'node:crypto';
import { DigestMismatchError, NotFoundError, isErrno } from '../errors.js';
import { digestHex, isDigest, sha256, type Digest } from '../image/digest.js';

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/**
 * Blobs by digest under `root/blobs/sha256`. Every write goes to `root/ingest` first, is fsynced,
 * checked against what it was expected to be, and only then renamed to its real name — a crash or a
 * wrong byte never leaves a blob under a digest it does not have. Readers may trust what is here.
 */
export class ContentStore {
  readonly root: string;
  /** Told of every blob this process looks for, reads or writes — before it does — so other processes' GC keeps it. */
  lease: { holdBlob(digest: Digest): Promise<void> } | undefined;
  private readonly blobDir: string;
  private readonly ingestDir: string;

  constructor(root: string) {
    this.root = root;
    this.blobDir = join(root, 'blobs', 'sha256');
    this.ingestDir = join(root, 'ingest');
  }

  /** Where the blob's file is: refused unless `digest` is a valid digest, wherever it came from (digestHex checks). */
  path(digest: Digest): string {
    return join(this.blobDir, digestHex(digest));
  }

  async has(digest: Digest): Promise<boolean> {
    await this.lease?.holdBlob(digest);
    return (await this.sizeOf(digest)) !== undefined;
  }

  async sizeOf(digest: Digest): Promise<number | undefined> {
    try {
      return (await stat(this.path(digest))).size;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async read(digest: Digest): Promise<Readable> {
    await this.lease?.holdBlob(digest);
    const path = this.path(digest);
    const handle = await open(path, 'r').catch((err: unknown) => {
      throw isErrno(err, 'ENOENT') ? new NotFoundError(`blob ${digest} is not in the store at ${this.root}`) : err;
    });
    return handle.createReadStream();
  }

  async readBuffer(digest: Digest): Promise<Buffer> {
    await this.lease?.holdBlob(digest);
    try {
      return await readFile(this.path(digest));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new NotFoundError(`blob ${digest} is not in the store at ${this.root}`);
      throw err;
    }
  }

  /** A writer that becomes the blob only when commit() verifies it matches `expected` (when given). */
  async writer(expected?: BlobInfo): Promise<BlobWriter> {
    await mkdir(this.ingestDir, { recursive: true });
    await mkdir(this.blobDir, { recursive: true });
    const tmp = join(this.ingestDir, `${Date.now()}-${process.pid}-${randomBytes(6).toString('hex')}`);
    return new BlobWriter(this, tmp, expected);
  }

  async ingest(source: Readable, expected?: BlobInfo): Promise<BlobInfo> {
    const writer = await this.writer(expected);
    try {
      await pipeline(source, writer);
      return await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  async writeBuffer(data: Uint8Array, expected?: BlobInfo): Promise<BlobInfo> {
    const digest = sha256(data);
    await this.lease?.holdBlob(digest);
    // A name is only ever given to verified, synced content: the same bytes need no second write.
    if ((!expected || expected.digest === digest) && (await this.sizeOf(digest)) === data.length)
      return { digest, size: data.length };
    const writer = await this.writer(expected);
    try {
      await new Promise<void>((resolve, reject) =>
        writer.end(data, (err?: Error | null) => (err ? reject(err) : resolve())),
      );
      return await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
  }

  async delete(digest: Digest): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  async *list(): AsyncIterable<Digest> {
    let names: string[];
    try {
      names = await readdir(this.blobDir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    for (const name of names) {
      const d = `sha256:${name}`;
      if (isDigest(d)) yield d;
    }
  }

  /** @internal used by BlobWriter */
  async publish(tmp: string, digest: Digest): Promise<void> {
    await this.lease?.holdBlob(digest);
    await rename(tmp, this.path(digest));
    const dir = await open(this.blobDir, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }
}

export class BlobWriter extends Writable {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private readonly file: WriteStream;
  private readonly finished: Promise<void>;

  constructor(
    private readonly store: ContentStore,
    private readonly tmp: string,
    private readonly expected: BlobInfo | undefined,
  ) {
    super();
    this.file = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
    this.finished = new Promise((resolve, reject) => {
      this.file.once('close', resolve);
      this.file.once('error', reject);
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this.size += chunk.length;
    if (this.expected && this.size > this.expected.size) {
      done(
        new DigestMismatchError(`blob ${this.expected.digest} is larger than its expected ${this.expected.size} bytes`),
      );
      return;
    }
    this.hash.update(chunk);
    this.file.write(chunk, done);
  }

  override _final(done: (err?: Error | null) => void): void {
    this.file.end(done);
  }

  /** Verifies size and digest, fsyncs and renames into place. */
  async commit(): Promise<BlobInfo> {
    await this.finished;
    const digest: Digest = `sha256:${this.hash.digest('hex')}`;
    if (this.expected && (digest !== this.expected.digest || this.size !== this.expected.size)) {
      await unlink(this.tmp).catch(() => undefined);
      throw new DigestMismatchError(
        `content does not match its descriptor: expected ${this.expected.digest} (${this.expected.size} bytes), got ` +
          `${digest} (${this.size} bytes)`,
      );
    }
    const fh = await open(this.tmp, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    await this.store.publish(this.tmp, digest);
    return { digest, size: this.size };
  }

  async abort(): Promise<void> {
    this.file.destroy();
    await this.finished.catch(() => undefined);
    await unlink(this.tmp).catch(() => undefined);
  }
}
