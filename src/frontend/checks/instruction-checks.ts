import { posix } from 'node:path';
import type { StageCheckState } from '../conversion.js';
import type { Instruction } from '../instructions.js';
import { PatternMatcher } from '../patterns.js';
import type { BuildChecks } from './build-checks.js';
import { RULES } from './rules.js';

const SECRET_WORDS = [
  'apikey',
  'auth',
  'credential',
  'credentials',
  'key',
  'password',
  'pword',
  'passwd',
  'secret',
  'token',
];
const NOT_SECRET_WORDS = ['public', 'file', 'version'];

/** A name with one of the words as its whole, first or last `_`-separated part, in any case. */
function namedWith(words: string[]): RegExp {
  return new RegExp(`(?:_|^)(?:${words.join('|')})(?:_|$)`, 'i');
}

const SECRET_NAME = namedWith(SECRET_WORDS);
const NOT_SECRET_NAME = namedWith(NOT_SECRET_WORDS);

/** SecretsUsedInArgOrEnv: an ARG or ENV named like a secret (GITHUB_TOKEN, db_password), not its file or version. */
export function checkSecretName(checks: BuildChecks, instruction: 'ARG' | 'ENV', name: string, line: number): void {
  if (SECRET_NAME.test(name) && !NOT_SECRET_NAME.test(name)) {
    checks.report(RULES.SecretsUsedInArgOrEnv, line, instruction, name);
  }
}

/** MultipleInstructionsDisallowed: reported at the earlier instruction, the one that has no effect. */
export function checkUsedOnce(checks: BuildChecks, stage: StageCheckState, ins: Instruction): void {
  const earlier = stage.lastLine.get(ins.kind);
  if (earlier !== undefined) checks.report(RULES.MultipleInstructionsDisallowed, earlier, ins.kind);
  stage.lastLine.set(ins.kind, ins.line);
}

/** Patterns that leave nothing of the context: then even `COPY . /` copies an ignored file. */
const WHOLE_CONTEXT = ['*', '**', '**/*'];

/**
 * CopyIgnoredFile: a COPY or ADD source from the context that .dockerignore excludes. As BuildKit,
 * not judged when the ignore file has `!` exceptions (a file in an excluded directory may be kept).
 */
export function checkIgnoredSources(
  checks: BuildChecks,
  kind: 'COPY' | 'ADD',
  sources: string[],
  ignorePatterns: readonly string[],
  line: number,
): void {
  const ignored = new PatternMatcher(ignorePatterns);
  if (ignored.empty || ignored.hasExclusions) return;
  for (const source of sources) {
    const path = posix.normalize(source).replace(/(.)\/$/, '$1');
    if ((path === '.' || path === '/') && !ignorePatterns.some((p) => WHOLE_CONTEXT.includes(p))) continue;
    if (ignored.matches(path)) checks.report(RULES.CopyIgnoredFile, line, kind === 'ADD' ? 'Add' : 'Copy', path);
  }
}
