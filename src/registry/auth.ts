import { TcbuildError } from '../errors.js';
import type { Credentials } from './docker-config.js';

/** One challenge of a WWW-Authenticate header: `Bearer realm="…",service="…",scope="…"`. */
export interface Challenge {
  scheme: string; // lowercased: "basic", "bearer"
  params: Record<string, string>;
}

/** Parses RFC 7235 challenges, several per header allowed. Unknown syntax is skipped, not fatal. */
export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  const text = Array.isArray(header) ? header.join(', ') : (header ?? '');
  const tokenRe = /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*/y;
  const challenges: Challenge[] = [];
  let pos = 0;
  while (pos < text.length) {
    tokenRe.lastIndex = pos;
    const token = tokenRe.exec(text);
    if (!token) {
      pos++;
      continue;
    }
    pos = tokenRe.lastIndex;
    if (text[pos] === '=' && challenges.length > 0) {
      const value = readParamValue(text, pos + 1);
      challenges[challenges.length - 1]!.params[token[1]!.toLowerCase()] = value.value;
      pos = value.end;
    } else {
      challenges.push({ scheme: token[1]!.toLowerCase(), params: {} });
    }
    while (pos < text.length && (text[pos] === ',' || text[pos] === ' ')) pos++;
  }
  return challenges;
}

function readParamValue(text: string, start: number): { value: string; end: number } {
  let pos = start;
  while (text[pos] === ' ') pos++;
  if (text[pos] !== '"') {
    const end = text.indexOf(',', pos);
    return { value: text.slice(pos, end < 0 ? text.length : end).trim(), end: end < 0 ? text.length : end };
  }
  let value = '';
  for (pos++; pos < text.length && text[pos] !== '"'; pos++)
    value += text[pos] === '\\' ? (text[++pos] ?? '') : text[pos];
  return { value, end: pos + 1 };
}

export interface TokenRequest {
  realm: string;
  service: string | undefined;
  scopes: string[];
  credentials: Credentials | undefined;
}

export interface Token {
  token: string;
  /** Seconds; the spec's default is 60. */
  expiresIn: number;
}

export type TokenFetcher = (request: TokenRequest) => Promise<Token>;

const TOKEN_EXPIRY_MARGIN_MS = 10_000;

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

/**
 * The Authorization header for one registry host: nothing (anonymous), Basic, or a Bearer token
 * obtained from the challenge's realm, cached per set of scopes until shortly before it expires.
 */
export class Authenticator {
  private challenge: Challenge | undefined;
  private readonly tokens = new Map<string, Promise<{ header: string; expiresAt: number }>>();

  constructor(
    private readonly registry: string,
    private readonly credentials: Credentials | undefined,
    private readonly fetchToken: TokenFetcher,
  ) {}

  /**
   * Takes the challenge a 401 carried (at ping or later). Returns whether another try is worth it:
   * false when none is usable, or when it repeats the challenge we already answered with `sent`
   * (two identical challenges: the credentials are not good enough, asking again will not help).
   */
  accept(header: string | string[] | undefined, sent?: string): boolean {
    const challenges = parseChallenges(header);
    const chosen = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) return false;
    if (this.challenge && sameChallenge(this.challenge, chosen)) return sent === undefined;
    this.challenge = chosen;
    this.tokens.clear();
    return true;
  }

  get hasChallenge(): boolean {
    return this.challenge !== undefined;
  }

  async authorization(scopes: string[]): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') return this.credentials ? basicHeader(this.credentials) : undefined;
    if (challenge.scheme !== 'bearer') return undefined;
    const realm = challenge.params['realm'];
    if (!realm) throw new TcbuildError(`${this.registry} asked for a bearer token but named no realm to get it from`);

    const key = [...scopes].sort().join(' ');
    const cached = this.tokens.get(key);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && token.expiresAt > Date.now()) return token.header;
      if (this.tokens.get(key) === cached) this.tokens.delete(key);
    }
    const pending = this.fetchToken({
      realm,
      service: challenge.params['service'],
      scopes,
      credentials: this.credentials,
    }).then((t) => ({
      header: `Bearer ${t.token}`,
      expiresAt: Date.now() + t.expiresIn * 1000 - TOKEN_EXPIRY_MARGIN_MS,
    }));
    this.tokens.set(key, pending);
    try {
      return (await pending).header;
    } catch (err) {
      if (this.tokens.get(key) === pending) this.tokens.delete(key);
      throw err;
    }
  }
}

function sameChallenge(a: Challenge, b: Challenge): boolean {
  return (
    a.scheme === b.scheme &&
    JSON.stringify(Object.entries(a.params).sort()) === JSON.stringify(Object.entries(b.params).sort())
  );
}

export function basicHeader(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}
