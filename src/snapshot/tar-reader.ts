import { InvalidInputError } from '../errors.js';
import {
  BLOCK_SIZE,
  META_TYPEFLAGS,
  MetaRecordBudget,
  applyPaxRecords,
  decodeHeaderBlock,
  isZeroBlock,
  paddingFor,
  parsePaxRecords,
  type TarEntry,
} from './tar-format.js';

export interface TarReadEntry {
  entry: TarEntry;
  /** The entry's data; read it (or not) before asking for the next entry. */
  body: AsyncIterable<Buffer>;
}

/**
 * Streams the entries of a tar archive. The whole source is consumed, trailing bytes after the
 * end-of-archive blocks included, so a digest computed upstream covers every byte.
 */
export async function* readTar(source: AsyncIterable<Buffer>): AsyncGenerator<TarReadEntry> {
  const input = new ByteReader(source[Symbol.asyncIterator]());
  let pax: Map<string, Buffer> | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  const budget = new MetaRecordBudget();
  for (;;) {
    const block = await input.read(BLOCK_SIZE);
    if (block === undefined || isZeroBlock(block)) break;
    const { typeflag, entry } = decodeHeaderBlock(block);

    if (META_TYPEFLAGS.has(typeflag)) {
      budget.admit(typeflag, entry.size);
      const data = await input.readExactly(entry.size + paddingFor(entry.size));
      const record = data.subarray(0, entry.size);
      if (typeflag === 'x') pax = new Map([...(pax ?? []), ...parsePaxRecords(record, budget)]);
      else if (typeflag === 'L') longName = cString(record);
      else if (typeflag === 'K') longLink = cString(record);
      // 'g' (global PAX) records carry nothing a layer needs.
      continue;
    }

    if (longName !== undefined) entry.name = longName;
    if (longLink !== undefined) entry.linkname = longLink;
    if (pax) applyPaxRecords(entry, pax);
    pax = longName = longLink = undefined;
    budget.reset();

    // Only regular files have data for the consumer; a hard link may carry some that is skipped.
    const dataSize = entry.type === 'file' || entry.type === 'hardlink' ? entry.size : 0;
    const entryEnd = input.offset + dataSize + paddingFor(dataSize);
    yield { entry, body: input.stream(entry.type === 'file' ? dataSize : 0) };
    await input.skip(entryEnd - input.offset);
  }
  await input.skip(Infinity);
}

function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.subarray(0, end === -1 ? data.length : end).toString('utf8');
}

/** Reads exact byte counts from a chunked source without copying large data. */
class ByteReader {
  private pending: Buffer[] = [];
  private pendingSize = 0;
  private done = false;
  /** Bytes handed out or skipped so far. */
  offset = 0;

  constructor(private readonly source: AsyncIterator<Buffer>) {}

  /** `n` bytes, or undefined at a clean end of input; throws if the input ends part-way. */
  async read(n: number): Promise<Buffer | undefined> {
    while (this.pendingSize < n && (await this.pull()));
    if (this.pendingSize === 0) return undefined;
    if (this.pendingSize < n) throw truncated();
    return this.take(n);
  }

  async readExactly(n: number): Promise<Buffer> {
    if (n === 0) return Buffer.alloc(0);
    const data = await this.read(n);
    if (data === undefined) throw truncated();
    return data;
  }

  /** Yields exactly `n` bytes in the chunks they arrive in. Finishing early is allowed. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.pendingSize === 0 && !(await this.pull())) throw truncated();
      const chunk = this.take(Math.min(left, this.pending[0]!.length));
      left -= chunk.length;
      yield chunk;
    }
  }

  /** Skips `n` bytes; Infinity drains the source. */
  async skip(n: number): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.pendingSize === 0 && !(await this.pull())) {
        if (left === Infinity) return;
        throw truncated();
      }
      left -= this.take(Math.min(left, this.pending[0]!.length)).length;
    }
  }

  private async pull(): Promise<boolean> {
    if (this.done) return false;
    const next = await this.source.next();
    if (next.done) {
      this.done = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value);
    if (chunk.length > 0) {
      this.pending.push(chunk);
      this.pendingSize += chunk.length;
    }
    return true;
  }

  private take(n: number): Buffer {
    if (this.pending[0]!.length < n) this.pending = [Buffer.concat(this.pending, this.pendingSize)];
    const first = this.pending[0]!;
    const result = first.subarray(0, n);
    if (first.length === n) this.pending.shift();
    else this.pending[0] = first.subarray(n);
    this.pendingSize -= n;
    this.offset += n;
    return result;
  }
}

function truncated(): InvalidInputError {
  return new InvalidInputError('the layer archive ends in the middle of an entry (truncated download or corrupt blob)');
}
