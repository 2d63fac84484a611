import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TcbuildError } from '../src/errors.js';

/**
 * A fuzz target: one function over bytes, run by the engine (engine.ts) with coverage feedback.
 * Throwing a TcbuildError (or an error `expected` accepts) is how code under test refuses bad
 * input; anything else it throws, a hang, or memory without bound is a finding.
 */
export interface FuzzTarget {
  /** One line: what is fuzzed. */
  description: string;
  fuzz(data: Buffer): void | Promise<void>;
  /** Inputs to start from: test fixtures, valid documents, crafted archives. */
  seeds(): Buffer[] | Promise<Buffer[]>;
  /** Tokens the mutator inserts: keywords, operators, magic numbers. */
  dictionary?: string[];
  /** Longest input the mutator makes (default 4096). */
  maxLength?: number;
  /** Errors that are refusals rather than bugs, besides TcbuildError. */
  expected?(err: unknown): boolean;
}

/** A property of the code under test does not hold (an escape, a round trip that changes). */
export class PropertyViolation extends Error {
  override name = 'PropertyViolation';
}

export function isExpectedError(target: FuzzTarget, err: unknown): boolean {
  return err instanceof TcbuildError || (target.expected?.(err) ?? false);
}

/** The repository's top directory (targets run from dist/fuzz/...). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Every regular file under `dir` (relative to the repository) whose name `accept`s, sorted, read whole. */
export function filesUnder(dir: string, accept: (name: string) => boolean): Buffer[] {
  const found: string[] = [];
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile() && accept(entry.name)) found.push(child);
    }
  };
  walk(join(REPO, dir));
  return found.map((path) => readFileSync(path));
}
