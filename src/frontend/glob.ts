/**
 * Path patterns as Go's filepath.Match reads them — `*`, `?`, `[class]` (with `^` and ranges)
 * and `\` escapes, none of which match '/' — plus patternmatcher's `**` for the patterns of
 * .dockerignore and COPY --exclude. A pattern is matched by following every way through it at
 * once (a set of states), so the time is linear in the path for any pattern: a backtracking
 * matcher takes minutes or hours on a pattern of ten stars, each followed by `a`, against a
 * 40-character name, and a hostile
 * context or Dockerfile chooses both.
 */

type Step =
  | { kind: 'char'; accepts: (c: string) => boolean }
  /** `*`: any run of characters but '/'. */
  | { kind: 'star' }
  /** `**` at the end: anything. */
  | { kind: 'rest' }
  /** `**` before more pattern: any run of whole path elements, each with its '/' (none, too). */
  | { kind: 'dirs' };

export class Glob {
  private constructor(private readonly steps: readonly Step[]) {}

  /**
   * Compiles `pattern`; `**` is a star of its own only `withGlobstar`. Undefined when a `[`
   * class is not closed.
   */
  static compile(pattern: string, withGlobstar: boolean): Glob | undefined {
    const p = Array.from(pattern);
    const steps: Step[] = [];
    for (let i = 0; i < p.length; i++) {
      const c = p[i]!;
      if (c === '*') {
        if (withGlobstar && p[i + 1] === '*') {
          i++;
          if (p[i + 1] === '/') i++;
          steps.push({ kind: i + 1 >= p.length ? 'rest' : 'dirs' });
        } else if (steps.at(-1)?.kind !== 'star') {
          steps.push({ kind: 'star' });
        }
      } else if (c === '?') {
        steps.push({ kind: 'char', accepts: (ch) => ch !== '/' });
      } else if (c === '[') {
        const end = classEnd(p, i);
        if (end < 0) return undefined;
        const cls = p.slice(i + 1, end);
        steps.push({ kind: 'char', accepts: (ch) => ch !== '/' && matchClass(cls, ch) });
        i = end;
      } else {
        const literal = c === '\\' && i + 1 < p.length ? p[++i]! : c;
        steps.push({ kind: 'char', accepts: (ch) => ch === literal });
      }
    }
    return new Glob(steps);
  }

  /** Whether the whole of `text` matches. */
  test(text: string): boolean {
    const n = this.steps.length;
    // State 2i: before step i; 2i+1: inside a `dirs` step i (past its start, its '/' not yet read).
    let states = this.closure(new Uint8Array(2 * n + 2), 0);
    for (const c of text) {
      const next = new Uint8Array(2 * n + 2);
      let any = false;
      for (let i = 0; i < n; i++) {
        if (!states[2 * i] && !states[2 * i + 1]) continue;
        const step = this.steps[i]!;
        if (step.kind === 'char') {
          if (states[2 * i] && step.accepts(c)) next[2 * i + 2] = 1;
        } else if (step.kind === 'star') {
          if (c !== '/') next[2 * i] = 1;
        } else if (step.kind === 'rest') {
          next[2 * i] = 1;
        } else {
          next[2 * i + 1] = 1;
          if (c === '/') next[2 * i + 2] = 1;
        }
        any = true;
      }
      if (!any) return false;
      states = this.closure(next, -1);
    }
    return states[2 * n] === 1;
  }

  /** Adds the states reached without reading a character; `start` >= 0 marks that state first. */
  private closure(states: Uint8Array, start: number): Uint8Array {
    if (start >= 0) states[start] = 1;
    for (let i = 0; i < this.steps.length; i++) {
      if (states[2 * i] && this.steps[i]!.kind !== 'char') states[2 * i + 2] = 1;
    }
    return states;
  }
}

/** Go's filepath.Match for one path element. */
export function matchPathElement(pattern: string, name: string): boolean {
  return Glob.compile(pattern, false)?.test(name) ?? false;
}

/**
 * Whether a path is a pattern: an unescaped `*`, `?` or `[` (BuildKit's containsWildcards). A path
 * whose wildcard characters are all escaped is a plain path, backslashes and all.
 */
export function hasGlobMeta(pattern: string): boolean {
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}

function classEnd(p: string[], start: number): number {
  let i = start + 1;
  if (p[i] === '^') i++;
  for (let first = true; i < p.length; i++, first = false) {
    if (p[i] === '\\') i++;
    else if (p[i] === ']' && !first) return i;
  }
  return -1;
}

function matchClass(cls: string[], ch: string): boolean {
  const code = ch.codePointAt(0)!;
  const negate = cls[0] === '^';
  let i = negate ? 1 : 0;
  let hit = false;
  while (i < cls.length) {
    let lo = cls[i]!;
    if (lo === '\\') lo = cls[++i]!;
    i++;
    let hi = lo;
    if (cls[i] === '-' && i + 1 < cls.length) {
      hi = cls[i + 1] === '\\' ? cls[i + 2]! : cls[i + 1]!;
      i += cls[i + 1] === '\\' ? 3 : 2;
    }
    if (lo.codePointAt(0)! <= code && code <= hi.codePointAt(0)!) hit = true;
  }
  return hit !== negate;
}
