/** A small seeded PRNG (mulberry32), so that a run with the same seed makes the same inputs. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** An integer in [0, n). */
  below(n: number): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** An item, later ones more likely (a corpus grows by inputs that went further). */
  pickRecent<T>(items: readonly T[]): T {
    return items[Math.floor(Math.sqrt(this.below(2 ** 30) / 2 ** 30) * items.length)]!;
  }
}

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x20, 0x0a, 0x2f, 0x2e, 0x30, 0x39, 0x5c, 0x22, 0x24];

/**
 * Havoc mutations in the manner of AFL and libFuzzer: a stack of byte-level edits, dictionary
 * tokens, and splices with other corpus inputs.
 */
export class Mutator {
  private readonly tokens: Buffer[];

  constructor(
    private readonly random: Random,
    dictionary: readonly string[],
    private readonly maxLength: number,
  ) {
    this.tokens = dictionary.map((t) => Buffer.from(t));
  }

  mutate(input: Buffer, other: () => Buffer): Buffer {
    let data: Buffer = Buffer.from(input);
    // Mostly one edit, so that a step forward is not undone by others; sometimes a stack of up to 16.
    const edits = this.random.below(2) === 0 ? 1 : 1 << this.random.below(5);
    for (let i = 0; i < edits; i++) data = this.edit(data, other);
    return data.length > this.maxLength ? data.subarray(0, this.maxLength) : data;
  }

  private edit(data: Buffer, other: () => Buffer): Buffer {
    const r = this.random;
    const at = (extra = 0) => r.below(data.length + extra);
    const choices = this.tokens.length > 0 ? 11 : 9;
    switch (data.length === 0 ? 4 : r.below(choices)) {
      case 0: // flip a bit
        data[at()]! ^= 1 << r.below(8);
        return data;
      case 1: // a random byte
        data[at()] = r.below(256);
        return data;
      case 2: // an interesting byte
        data[at()] = r.pick(INTERESTING);
        return data;
      case 3: // a digit one up or down (sizes, counts and lengths in text)
        return this.nudgeDigit(data);
      case 4: // insert random bytes
        return insert(data, at(1), Buffer.from(Array.from({ length: 1 + r.below(8) }, () => r.below(256))));
      case 5: {
        // delete a range
        const start = at();
        return Buffer.concat([
          data.subarray(0, start),
          data.subarray(start + 1 + r.below(Math.min(64, data.length - start))),
        ]);
      }
      case 6: {
        // duplicate a range
        const start = at();
        const chunk = data.subarray(start, start + 1 + r.below(64));
        return insert(data, at(1), Buffer.from(chunk));
      }
      case 7: {
        // splice with another input
        const donor = other();
        if (donor.length === 0) return data;
        const from = r.below(donor.length);
        return Buffer.concat([data.subarray(0, at(1)), donor.subarray(from, from + 1 + r.below(donor.length - from))]);
      }
      case 8: {
        // insert a piece of another input
        const donor = other();
        const from = r.below(donor.length + 1);
        return insert(data, at(1), donor.subarray(from, from + r.below(256)));
      }
      case 9: // insert a token
        return insert(data, at(1), r.pick(this.tokens));
      default: {
        // overwrite with a token
        const token = r.pick(this.tokens);
        const start = at();
        return Buffer.concat([data.subarray(0, start), token, data.subarray(start + token.length)]);
      }
    }
  }

  private nudgeDigit(data: Buffer): Buffer {
    const start = this.random.below(data.length);
    for (let i = 0; i < data.length; i++) {
      const pos = (start + i) % data.length;
      const c = data[pos]!;
      if (c >= 0x30 && c <= 0x39) {
        data[pos] = 0x30 + ((c - 0x30 + (this.random.below(2) ? 1 : 9)) % 10);
        return data;
      }
    }
    return data;
  }
}

function insert(data: Buffer, at: number, piece: Buffer): Buffer {
  return Buffer.concat([data.subarray(0, at), piece, data.subarray(at)]);
}
