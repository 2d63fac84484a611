import { InvalidInputError } from '../../src/errors.js';
import type { FuzzTarget } from '../../fuzz/target.js';

/**
 * A target with bugs planted for the fuzzer's own tests: a TypeError behind three nested byte
 * comparisons ("FUZ", where only coverage feedback leads), and — when PLANTED says so — a seed
 * that hangs or one that takes 1 GiB and then hangs. Short inputs are refused with an
 * InvalidInputError, which is not a finding.
 */
const keep: Buffer[] = [];

export const target: FuzzTarget = {
  description: 'planted bugs, for the fuzzer tests',
  fuzz(data) {
    if (data.length < 4) throw new InvalidInputError('too short');
    if (data[0] === 0x46 && data[1] === 0x55 && data[2] === 0x5a) {
      (undefined as unknown as { property: number }).property;
    }
    const text = data.toString();
    if (process.env['PLANTED'] === 'hang' && text === 'HANG') for (;;);
    if (process.env['PLANTED'] === 'memory' && text === 'GROW') {
      while (keep.length < 64) keep.push(Buffer.alloc(16 << 20, 1));
      for (;;);
    }
  },
  seeds: () => ['abcd', 'HAN', 'HANG', 'GROW'].map((s) => Buffer.from(s)),
  maxLength: 64,
};
