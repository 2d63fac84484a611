/**
 * Dockerfile word expansion with the behaviour of BuildKit's shell lexer
 * (moby/buildkit, frontend/dockerfile/shell/lex.go): quote removal, escapes,
 * `$VAR` / `${VAR<op>word}` expansion and splitting into words.
 */

export interface ExpandOptions {
  /** From the `# escape=` directive; default backslash. */
  escapeToken?: '\\' | '`';
  /** Keep quote characters in the output (BuildKit's RawQuotes). */
  rawQuotes?: boolean;
  /** Leave references to unset variables as written (BuildKit's SkipUnsetEnv). */
  skipUnsetEnv?: boolean;
  /** Receives every variable name looked up, whether set or not. */
  used?: Set<string>;
  /** Receives every variable name looked up that is not set (BuildKit's unmatched names). */
  unset?: Set<string>;
}

export type Env = ReadonlyMap<string, string>;

export class ExpansionError extends Error {
  override name = 'ExpansionError';

  constructor(
    readonly word: string,
    /** The reason alone, without the `failed to process "…"` prefix. */
    readonly reason: string,
  ) {
    super(`failed to process ${JSON.stringify(word)}: ${reason}`);
  }
}

/** Expands `word` into one string (BuildKit's ProcessWord). */
export function expandWord(word: string, env: Env, opts: ExpandOptions = {}): string {
  return new WordExpander(word, env, opts).expand().text;
}

/**
 * Expands `word` and splits the result into words on whitespace that was
 * neither quoted nor escaped (BuildKit's ProcessWords).
 */
export function expandWords(word: string, env: Env, opts: ExpandOptions = {}): string[] {
  return new WordExpander(word, env, opts).expand().words;
}

/** A syntax or `${VAR?message}` failure; becomes an ExpansionError at the top. */
class LexFailure extends Error {}

interface Expansion {
  text: string;
  words: string[];
}

class WordExpander {
  private readonly chars: string[];
  private pos = 0;
  private readonly escapeToken: string;
  /** Keep escape characters in the text (inside the pattern and replacement of `${V#p}`, `${V/p/r}` …). */
  private rawEscapes = false;

  constructor(
    private readonly source: string,
    private readonly env: Env,
    private readonly opts: ExpandOptions,
  ) {
    this.chars = scannerCodePoints(source);
    this.escapeToken = opts.escapeToken ?? '\\';
  }

  expand(): Expansion {
    try {
      return this.expandUntil(undefined, false);
    } catch (err) {
      if (err instanceof LexFailure) throw new ExpansionError(this.source, err.message);
      throw err;
    }
  }

  private peek(): string | undefined {
    return this.chars[this.pos];
  }

  private next(): string | undefined {
    const ch = this.chars[this.pos];
    if (ch !== undefined) this.pos++;
    return ch;
  }

  /** Expands up to `stop` (consumed) or, when `stop` is undefined, to the end of the input. */
  private expandUntil(stop: string | undefined, rawEscapes: boolean): Expansion {
    const outerRawEscapes = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let text = '';
      const words = new WordSplitter();
      for (let ch = this.peek(); ch !== undefined; ch = this.peek()) {
        if (ch === stop) {
          this.next();
          return { text, words: words.finish() };
        }
        if (ch === '$') {
          const value = this.dollar();
          text += value;
          words.addUnquoted(value);
          continue;
        }
        if (ch === "'" || ch === '"' || ch === '<') {
          const value = ch === "'" ? this.singleQuoted() : ch === '"' ? this.doubleQuoted() : this.possibleHeredoc();
          text += value;
          words.addLiteral(value);
          continue;
        }
        this.next();
        if (ch !== this.escapeToken) {
          text += ch;
          words.addUnquoted(ch);
          continue;
        }
        if (this.rawEscapes) {
          text += ch;
          words.addLiteral(ch);
        }
        const escaped = this.next();
        if (escaped === undefined) break;
        text += escaped;
        words.addLiteral(escaped);
      }
      if (stop !== undefined) {
        throw new LexFailure(`unexpected end of statement while looking for matching ${stop}`);
      }
      return { text, words: words.finish() };
    } finally {
      this.rawEscapes = outerRawEscapes;
    }
  }

  /** Everything up to the next `'` is literal; there is no escape inside single quotes. */
  private singleQuoted(): string {
    const quote = this.next()!;
    let text = this.opts.rawQuotes ? quote : '';
    for (;;) {
      const ch = this.next();
      if (ch === undefined) {
        throw new LexFailure('unexpected end of statement while looking for matching single-quote');
      }
      if (ch === "'") return this.opts.rawQuotes ? text + ch : text;
      text += ch;
    }
  }

  /** `$` expands; the escape character escapes only `"`, `$` and itself, and is kept before anything else. */
  private doubleQuoted(): string {
    const quote = this.next()!;
    let text = this.opts.rawQuotes ? quote : '';
    for (;;) {
      const ch = this.peek();
      if (ch === undefined) {
        throw new LexFailure('unexpected end of statement while looking for matching double-quote');
      }
      if (ch === '"') {
        this.next();
        return this.opts.rawQuotes ? text + ch : text;
      }
      if (ch === '$') {
        text += this.dollar();
        continue;
      }
      this.next();
      if (ch !== this.escapeToken) {
        text += ch;
        continue;
      }
      if (this.rawEscapes) text += ch;
      const following = this.peek();
      if (following === undefined) continue;
      if (following === '"' || following === '$' || following === this.escapeToken) {
        text += this.next();
      } else {
        text += ch;
      }
    }
  }

  /** `<<` and the blanks after it stay together in one word, so a heredoc marker is never split off. */
  private possibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let text = '<<';
    for (let ch = this.peek(); ch === ' ' || ch === '\t' || ch === '\r'; ch = this.peek()) {
      text += this.next();
    }
    return text;
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.readName();
      if (name === '') return '$';
      const value = this.lookup(name);
      if (value === undefined && this.opts.skipUnsetEnv) return `$${name}`;
      return value ?? '';
    }

    this.next();
    const first = this.peek();
    if (first === undefined) throw new LexFailure("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexFailure('syntax error: bad substitution');

    const name = this.readName();
    const operator = this.next();
    switch (operator) {
      case '}': {
        const value = this.lookup(name);
        if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}}`;
        return value ?? '';
      }
      case ':':
        return this.modifier(name, this.next(), true);
      case '-':
      case '+':
      case '?':
      case '#':
      case '%':
        return this.modifier(name, operator, false);
      case '/':
        return this.substitution(name);
      default:
        throw unsupportedModifier(charOrEof(operator));
    }
  }

  /** `${name<op>word}` and `${name:<op>word}` for op in `- + ? # %`. */
  private modifier(name: string, operator: string | undefined, colon: boolean): string {
    const spelled = (colon ? ':' : '') + charOrEof(operator);
    const trims = operator === '#' || operator === '%';
    if (colon && trims) throw unsupportedModifier(spelled);

    const word = this.expandOperand('}', trims, "syntax error: missing '}'");
    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}${spelled}${word}}`;
    const unsetOrNull = value === undefined || (colon && value === '');

    switch (operator) {
      case '-':
        return unsetOrNull ? word : value!;
      case '+':
        return unsetOrNull ? '' : word;
      case '?':
        if (value === undefined) throw new LexFailure(`${name}: ${word || 'is not allowed to be unset'}`);
        if (unsetOrNull) throw new LexFailure(`${name}: ${word || 'is not allowed to be empty'}`);
        return value;
      case '#':
      case '%': {
        const longest = word.startsWith(operator);
        const pattern = longest ? word.slice(1) : word;
        return operator === '#'
          ? removePrefix(value ?? '', pattern, longest)
          : removeSuffix(value ?? '', pattern, longest);
      }
      default:
        throw unsupportedModifier(spelled);
    }
  }

  /** `${name/pattern/replacement}` and `${name//pattern/replacement}`. */
  private substitution(name: string): string {
    const replaceAll = this.peek() === '/';
    if (replaceAll) this.next();
    const pattern = this.expandOperand('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.expandOperand('}', true, "syntax error: missing '}'");

    const value = this.lookup(name);
    if (value === undefined && this.opts.skipUnsetEnv) return `\${${name}/${pattern}/${replacement}}`;

    const subject = value ?? '';
    const matcher = shellPatternToRegExp(pattern, { longest: true, anchored: false });
    if (replaceAll) return replaceAllLikeGo(subject, matcher, replacement);
    const match = matcher.exec(subject);
    if (!match) return subject;
    return subject.slice(0, match.index) + replacement + subject.slice(match.index + match[0].length);
  }

  /** The word of a `${…}` operator: a failure at the end of input is reported as the missing delimiter. */
  private expandOperand(stop: string, rawEscapes: boolean, missingDelimiter: string): string {
    try {
      return this.expandUntil(stop, rawEscapes).text;
    } catch (err) {
      if (err instanceof LexFailure && this.peek() === undefined) throw new LexFailure(missingDelimiter);
      throw err;
    }
  }

  /** A run of digits (positional parameter), one special-parameter character, or a run of letters, digits and `_`. */
  private readName(): string {
    const first = this.peek();
    if (first === undefined) return '';
    if (isDigit(first)) {
      let digits = '';
      for (let ch = this.peek(); ch !== undefined && isDigit(ch); ch = this.peek()) digits += this.next();
      return digits;
    }
    if (SPECIAL_PARAMETERS.has(first)) return this.next()!;
    let name = '';
    for (let ch = this.peek(); ch !== undefined && (isLetter(ch) || isDigit(ch) || ch === '_'); ch = this.peek()) {
      name += this.next();
    }
    return name;
  }

  private lookup(name: string): string | undefined {
    this.opts.used?.add(name);
    const value = this.env.get(name);
    if (value === undefined) this.opts.unset?.add(name);
    return value;
  }
}

/**
 * Collects words: unquoted whitespace ends a word, quoted or escaped text never does,
 * and a word is only emitted if it is non-empty (so `""` alone yields no word).
 */
class WordSplitter {
  private readonly words: string[] = [];
  private current = '';

  addUnquoted(text: string): void {
    for (const ch of text) {
      if (isSpace(ch)) this.endWord();
      else this.current += ch;
    }
  }

  addLiteral(text: string): void {
    this.current += text;
  }

  finish(): string[] {
    this.endWord();
    return this.words;
  }

  private endWord(): void {
    if (this.current !== '') {
      this.words.push(this.current);
      this.current = '';
    }
  }
}

const SPECIAL_PARAMETERS = new Set(['@', '*', '#', '?', '-', '$', '!']);

const LETTER = /^\p{L}$/u;
const DECIMAL_DIGIT = /^\p{Nd}$/u;
/** Same set as Go's unicode.IsSpace. */
const WHITE_SPACE = /^\p{White_Space}$/u;
const REGEXP_SYNTAX_CHAR = /[\\^$.*+?()[\]{}|/]/;

const isLetter = (ch: string): boolean => LETTER.test(ch);
const isDigit = (ch: string): boolean => DECIMAL_DIGIT.test(ch);
const isSpace = (ch: string): boolean => WHITE_SPACE.test(ch);

function unsupportedModifier(spelled: string): LexFailure {
  return new LexFailure(`unsupported modifier (${spelled}) in substitution`);
}

/** Go prints the end-of-input rune as U+FFFD in BuildKit's messages. */
function charOrEof(ch: string | undefined): string {
  return ch ?? '\uFFFD';
}

/** Code points as Go's text/scanner delivers them: it drops a leading byte-order mark. */
function scannerCodePoints(text: string): string[] {
  const chars = Array.from(text);
  if (chars[0] === '\uFEFF') chars.shift();
  return chars;
}

/**
 * Shell pattern to RegExp as BuildKit does it: `*` and `?` are wildcards that do not
 * match a newline, `\` escapes only `*`, `?` and `\` (and is dropped before `}` and `/`,
 * which it merely protects from ending the `${…}`); everything else, `[` included, is literal.
 */
function shellPatternToRegExp(pattern: string, mode: { longest: boolean; anchored: boolean }): RegExp {
  let source = mode.anchored ? '^' : '';
  const chars = scannerCodePoints(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '*') {
      source += mode.longest ? '[^\\n]*' : '[^\\n]*?';
    } else if (ch === '?') {
      source += '[^\\n]';
    } else if (ch === '\\') {
      const escaped = chars[i + 1];
      if (escaped === '}' || escaped === '/') continue;
      if (escaped !== '*' && escaped !== '?' && escaped !== '\\') {
        throw new LexFailure(`invalid pattern (${pattern}) in substitution: invalid escape '\\${charOrEof(escaped)}'`);
      }
      source += `\\${escaped}`;
      i++;
    } else {
      source += REGEXP_SYNTAX_CHAR.test(ch) ? `\\${ch}` : ch;
    }
  }
  return new RegExp(source, mode.anchored ? 'u' : 'gu');
}

function removePrefix(value: string, pattern: string, longest: boolean): string {
  const match = shellPatternToRegExp(pattern, { longest, anchored: true }).exec(value);
  return match ? value.slice(match[0].length) : value;
}

/** The shortest or longest suffix match is found as a prefix match on the reversed value and pattern. */
function removeSuffix(value: string, pattern: string, longest: boolean): string {
  return reverseCodePoints(removePrefix(reverseCodePoints(value), reversePattern(pattern), longest));
}

function reverseCodePoints(text: string): string {
  return Array.from(text).reverse().join('');
}

/** Reverses a pattern but keeps each `\x` escape pair in order (`a\*c` becomes `c\*a`). */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const reversed: string[] = new Array<string>(chars.length);
  const last = chars.length - 1;
  for (let i = 0; i <= last; ) {
    if (chars[i] === '\\' && i !== last) {
      reversed[last - i - 1] = '\\';
      reversed[last - i] = chars[i + 1]!;
      i += 2;
    } else {
      reversed[last - i] = chars[i]!;
      i++;
    }
  }
  return reversed.join('');
}

/**
 * Go's Regexp.ReplaceAllString, which BuildKit uses for `${V//p/r}`: an empty match right
 * after a previous match is not replaced, and `$$`, `$0` / `${0}` (the match) and `$name`
 * (no such group: empty) are expanded in the replacement.
 */
function replaceAllLikeGo(value: string, matcher: RegExp, template: string): string {
  let out = '';
  let lastMatchEnd = 0;
  let searchPos = 0;
  while (searchPos <= value.length) {
    matcher.lastIndex = searchPos;
    const match = matcher.exec(value);
    if (!match) break;
    const start = match.index;
    const end = start + match[0].length;
    out += value.slice(lastMatchEnd, start);
    if (end > lastMatchEnd || start === 0) out += expandGoTemplate(template, match[0]);
    lastMatchEnd = end;
    const width = searchPos < value.length ? String.fromCodePoint(value.codePointAt(searchPos)!).length : 0;
    if (searchPos + width > end) searchPos += width;
    else if (searchPos + 1 > end) searchPos++;
    else searchPos = end;
  }
  return out + value.slice(lastMatchEnd);
}

function expandGoTemplate(template: string, matched: string): string {
  return template.replace(
    /\$(?:\$|\{([\p{L}\p{Nd}_]+)\}|([\p{L}\p{Nd}_]+))/gu,
    (whole, braced: string | undefined, bare: string | undefined) =>
      whole === '$$' ? '$' : (braced ?? bare) === '0' ? matched : '',
  );
}
