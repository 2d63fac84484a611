import { posix } from 'node:path';
import { parseDockerignore } from '../../src/frontend/dockerignore.js';
import { matchPathElement } from '../../src/frontend/glob.js';
import { PatternMatcher } from '../../src/frontend/patterns.js';
import { filesUnder, PropertyViolation, type FuzzTarget } from '../target.js';

/** A pattern's literal text when it has no wildcard or class (escapes removed), else undefined. */
function literalOf(pattern: string): string | undefined {
  let literal = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*' || c === '?' || c === '[') return undefined;
    if (c === '\\' && i + 1 < pattern.length) literal += pattern[++i];
    else literal += c;
  }
  return literal;
}

/**
 * .dockerignore files and Docker's path patterns (src/frontend/dockerignore.ts, patterns.ts, and
 * glob.ts, which COPY's wildcards use too).
 * The input is the file, then a NUL, then paths to match, one a line. A pattern without
 * wildcards must match its own literal text (as moby/patternmatcher does).
 */
export const target: FuzzTarget = {
  description:
    '.dockerignore and COPY patterns (src/frontend/dockerignore.ts, patterns.ts, glob.ts): parse, compile, match',
  fuzz(data) {
    const text = data.toString('utf8');
    const split = text.indexOf('\0');
    const patterns = parseDockerignore(split < 0 ? text : text.slice(0, split));
    const paths = (split < 0 ? ['a', 'a/b', 'docs/README.md'] : text.slice(split + 1).split('\n'))
      .map((p) => posix.normalize(p).replace(/^\/+|\/+$/g, ''))
      .filter((p) => p !== '' && p !== '.' && !p.startsWith('..'));
    const matcher = new PatternMatcher(patterns);
    for (const path of paths) {
      matcher.matches(path);
      matcher.mayIncludeBelow(path);
      for (const pattern of patterns) matchPathElement(pattern, posix.basename(path));
    }
    for (const pattern of patterns) {
      // The matcher trims each pattern again, as moby/patternmatcher does (so `/ a` ignores `a`).
      const literal = pattern.startsWith('!') ? undefined : literalOf(posix.normalize(pattern.trim()));
      if (literal === undefined || literal === '' || literal === '.' || literal.startsWith('../') || literal === '..')
        continue;
      if (!new PatternMatcher([pattern]).matches(literal))
        throw new PropertyViolation(
          `pattern ${JSON.stringify(pattern)} does not match its literal text ${JSON.stringify(literal)}`,
        );
    }
  },
  seeds: () =>
    filesUnder(
      'test/conformance/dockerfiles',
      (name) => name === '.dockerignore' || name.endsWith('.dockerignore'),
    ).map((file) =>
      Buffer.concat([
        file,
        Buffer.from('\0a.log\nkeep.log\ndocs/README.md\ndeep/y.tmp\nsecret/public\nbuild1/f\nsrc/sub/b.bak'),
      ]),
    ),
  dictionary: ['*', '**', '**/', '?', '[', ']', '[^', '[a-z]', '\\', '!', '/', '..', '.', '#', '\n', '\r\n', '\0', ' '],
  maxLength: 2048,
};
