/** Go's filepath.Match for one path element: `*`, `?`, `[class]` (with `^` and ranges), `\` escapes. */
export function matchPathElement(pattern: string, name: string): boolean {
  return matchFrom(pattern, 0, name, 0);
}

export function hasGlobMeta(pattern: string): boolean {
  return /[*?[\\]/.test(pattern);
}

function matchFrom(p: string, pi: number, s: string, si: number): boolean {
  while (pi < p.length) {
    const c = p[pi]!;
    if (c === '*') {
      while (p[pi] === '*') pi++;
      if (pi === p.length) return !s.slice(si).includes('/');
      for (let k = si; k <= s.length; k++) {
        if (k > si && s[k - 1] === '/') return false;
        if (matchFrom(p, pi, s, k)) return true;
      }
      return false;
    }
    if (si >= s.length || s[si] === '/') return false;
    if (c === '?') {
      pi++;
      si++;
      continue;
    }
    if (c === '[') {
      const end = classEnd(p, pi);
      if (end < 0) return false;
      if (!matchClass(p.slice(pi + 1, end), s[si]!)) return false;
      pi = end + 1;
      si++;
      continue;
    }
    const literal = c === '\\' && pi + 1 < p.length ? p[++pi]! : c;
    if (literal !== s[si]) return false;
    pi++;
    si++;
  }
  return si === s.length;
}

function classEnd(p: string, start: number): number {
  let i = start + 1;
  if (p[i] === '^') i++;
  for (let first = true; i < p.length; i++, first = false) {
    if (p[i] === '\\') i++;
    else if (p[i] === ']' && !first) return i;
  }
  return -1;
}

function matchClass(cls: string, ch: string): boolean {
  const negate = cls.startsWith('^');
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
    if (lo <= ch && ch <= hi) hit = true;
  }
  return hit !== negate;
}
