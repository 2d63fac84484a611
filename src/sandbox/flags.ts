// Docker's spellings of sandbox options, for the CLI and the library verbs.
import { InvalidInputError } from '../errors.js';
import type { NetworkMode, Ulimit } from './types.js';

/** "64m", "1g", "512k", "1048576" → bytes (as `docker run --memory`). */
export function parseMemory(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([bkmgt]?)i?b?$/i.exec(text.trim());
  if (!match)
    throw new InvalidInputError(
      `invalid memory size "${text}": expected a number with an optional unit b, k, m, g (e.g. 64m)`,
    );
  const power = 'bkmgt'.indexOf((match[2] || 'b').toLowerCase());
  return Math.floor(Number(match[1]) * 1024 ** power);
}

/** "nofile=1024:4096" or "nproc=512" → a Ulimit (as `docker run --ulimit`). */
export function parseUlimit(text: string): Ulimit {
  const match = /^([a-z]+)=(-?\d+|unlimited)(?::(-?\d+|unlimited))?$/.exec(text.trim());
  if (!match)
    throw new InvalidInputError(`invalid --ulimit "${text}": expected NAME=SOFT[:HARD], e.g. nofile=1024:4096`);
  const value = (v: string) => (v === 'unlimited' || v === '-1' ? Number.MAX_SAFE_INTEGER : Number(v));
  const soft = value(match[2]!);
  const hard = match[3] === undefined ? soft : value(match[3]);
  if (soft > hard) throw new InvalidInputError(`invalid --ulimit "${text}": the soft limit is above the hard limit`);
  return { name: match[1]!, soft, hard };
}

/**
 * `--network`: "default" (docker build's word), "bridge" (docker run's) and "private" are the
 * private network; "host" and "none" are themselves.
 */
export function parseNetworkMode(text: string): NetworkMode {
  if (text === 'default' || text === 'bridge' || text === 'private') return 'private';
  if (text === 'host' || text === 'none') return text;
  throw new InvalidInputError(
    `invalid --network "${text}": expected default (a private network with outbound access), host or none`,
  );
}
