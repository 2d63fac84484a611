import { posix } from 'node:path';
import { TcbuildError } from '../errors.js';
import { Glob } from './glob.js';

/**
 * Docker's path patterns (.dockerignore, COPY --exclude), as moby/patternmatcher reads them:
 * `*` and `?` stay inside one path element, `**` spans any number of them, `[...]` classes and
 * `\` escapes as in Go's filepath.Match, `!` re-includes. Later patterns win over earlier ones,
 * and a pattern that matches a directory matches everything in it.
 */
export class PatternMatcher {
  private readonly patterns: { glob: Glob; exclusion: boolean; text: string }[];

  constructor(patterns: readonly string[]) {
    this.patterns = [];
    for (let text of patterns) {
      text = text.trim();
      if (text === '') continue;
      const exclusion = text.startsWith('!');
      if (exclusion) {
        text = text.slice(1).trim();
        if (text === '') throw new TcbuildError('illegal exclusion pattern: "!"');
      }
      text = posix.normalize(text);
      if (text.length > 1 && text.endsWith('/')) text = text.slice(0, -1);
      this.patterns.push({ glob: compile(text), exclusion, text });
    }
  }

  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether any `!` pattern exists: then an excluded directory may still hold included files. */
  get hasExclusions(): boolean {
    return this.patterns.some((p) => p.exclusion);
  }

  /** Whether `path` (relative, '/'-separated, clean) is matched, or lies in a matched directory. */
  matches(path: string): boolean {
    const parents = posix.dirname(path) === '.' ? [] : posix.dirname(path).split('/');
    let matched = false;
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let hit = pattern.glob.test(path);
      for (let i = 1; !hit && i <= parents.length; i++) hit = pattern.glob.test(parents.slice(0, i).join('/'));
      if (hit) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * Whether an exclusion pattern could re-include something below `dir` — the walker must then
   * look inside an excluded directory (patternmatcher's dirs-of-exclusions check, simplified to
   * a prefix test on the literal part of each pattern).
   */
  mayIncludeBelow(dir: string): boolean {
    return this.patterns.some((p) => {
      if (!p.exclusion) return false;
      const literal = p.text.split('/').findIndex((part) => /[*?[\\]/.test(part));
      const prefix = (literal < 0 ? p.text.split('/') : p.text.split('/').slice(0, literal)).join('/');
      return prefix === '' || `${prefix}/`.startsWith(`${dir}/`) || `${dir}/`.startsWith(`${prefix}/`);
    });
  }
}

function compile(pattern: string): Glob {
  const glob = Glob.compile(pattern, true);
  if (!glob) throw new TcbuildError(`invalid pattern "${pattern}": unterminated [`);
  return glob;
}
