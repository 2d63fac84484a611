import { DockerfileParser } from 'dockerfile-ast';
import { DockerfileError } from './errors.js';

/** One instruction as written: keyword, flags and argument text, before any typing or expansion. */
export interface RawInstruction {
  keyword: string; // upper-case
  keywordAsWritten: string;
  line: number; // 1-based first line
  endLine: number;
  original: string; // the logical line as BuildKit records it (continuations joined)
  flags: RawFlag[];
  args: string; // the text after the flags (continuations joined, comment lines dropped)
  heredocs: Heredoc[];
}

export interface RawFlag {
  name: string;
  value: string | null; // null for a bare `--flag`
}

export interface Heredoc {
  name: string;
  content: string;
  expand: boolean; // false when the delimiter was quoted
  chomp: boolean; // `<<-`: leading tabs stripped
}

export interface ParsedDockerfile {
  file: string;
  escape: '\\' | '`';
  syntax: string | undefined;
  /** The `# check=` directive's value. */
  check: string | undefined;
  instructions: RawInstruction[];
}

const HEREDOC_KEYWORDS = new Set(['RUN', 'COPY', 'ADD']);
const HEREDOC_RE = /<<(-?)\s*(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2/g;

/**
 * Splits a Dockerfile into raw instructions. dockerfile-ast finds the instructions, their lines and
 * the parser directives; the argument text is then read the way BuildKit's parser reads it.
 */
export function parseDockerfile(text: string, file: string): ParsedDockerfile {
  const ast = DockerfileParser.parse(text);
  const escape = ast.getEscapeCharacter() === '`' ? '`' : '\\';
  const lines = text.split(/\r?\n/);
  let syntax: string | undefined;
  let check: string | undefined;
  for (const directive of ast.getDirectives()) {
    const name = directive.getName().toLowerCase();
    if (name === 'syntax') syntax = directive.getValue();
    // Its value runs to the end of the line, spaces and all (`skip=A, B`), as BuildKit's directive parser reads it.
    if (name === 'check') check = /^#\s*check\s*=\s*(.*?)\s*$/i.exec(lines[directive.getRange().start.line] ?? '')?.[1];
  }
  const instructions = ast.getInstructions().map((instruction) => {
    const range = instruction.getRange();
    return readInstruction(lines.slice(range.start.line, range.end.line + 1), range.start.line + 1, escape, file);
  });
  return { file, escape, syntax, check, instructions };
}

function readInstruction(lines: string[], firstLine: number, escape: string, file: string): RawInstruction {
  const keywordMatch = /^\s*(\S+)\s*/.exec(lines[0] ?? '');
  const keywordAsWritten = keywordMatch?.[1] ?? '';
  const keyword = keywordAsWritten.toUpperCase();
  const { joined, consumed } = joinContinuations(lines, escape, keywordMatch?.[0].length ?? 0);
  const { flags, rest } = extractFlags(joined, firstLine, file);
  const heredocs = HEREDOC_KEYWORDS.has(keyword) ? readHeredocs(rest, lines.slice(consumed)) : [];
  return {
    keyword,
    keywordAsWritten,
    line: firstLine,
    endLine: firstLine + lines.length - 1,
    original: `${keyword} ${joined}`.trimEnd(),
    flags,
    args: rest,
    heredocs,
  };
}

/** Joins lines ending in the escape character; comment and blank lines inside a continuation are dropped. */
function joinContinuations(lines: string[], escape: string, skip: number): { joined: string; consumed: number } {
  const continuation = new RegExp(`${escape === '`' ? '`' : '\\\\'}[ \\t]*$`);
  let joined = '';
  let i = 0;
  let line = (lines[0] ?? '').slice(skip);
  for (;;) {
    const cont = continuation.exec(line);
    if (!cont) {
      joined += line;
      i++;
      break;
    }
    joined += line.slice(0, cont.index);
    i++;
    while (i < lines.length && /^\s*(#.*)?$/.test(lines[i]!)) i++;
    if (i >= lines.length) break;
    line = lines[i]!;
  }
  return { joined: joined.trim(), consumed: i };
}

function extractFlags(text: string, line: number, file: string): { flags: RawFlag[]; rest: string } {
  const flags: RawFlag[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
    if (!text.startsWith('--', pos)) break;
    const start = pos;
    let quote: string | null = null;
    while (pos < text.length && (quote !== null || !/\s/.test(text[pos]!))) {
      const c = text[pos]!;
      if (quote !== null && c === quote) quote = null;
      else if (quote === null && (c === '"' || c === "'")) quote = c;
      pos++;
    }
    const word = text.slice(start + 2, pos);
    if (word === '') {
      throw new DockerfileError(file, line, 'empty flag "--": flags are written --name=value');
    }
    const eq = word.indexOf('=');
    flags.push(eq < 0 ? { name: word, value: null } : { name: word.slice(0, eq), value: unquote(word.slice(eq + 1)) });
  }
  return { flags, rest: text.slice(pos) };
}

function unquote(value: string): string {
  return value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]
    ? value.slice(1, -1)
    : value;
}

function readHeredocs(args: string, bodyLines: string[]): Heredoc[] {
  const heredocs: Heredoc[] = [];
  let next = 0;
  for (const match of args.matchAll(HEREDOC_RE)) {
    const chomp = match[1] === '-';
    const name = match[3]!;
    const body: string[] = [];
    while (next < bodyLines.length) {
      const raw = bodyLines[next++]!;
      const line = chomp ? raw.replace(/^\t+/, '') : raw;
      if (line === name) break;
      body.push(line);
    }
    heredocs.push({ name, content: body.length ? `${body.join('\n')}\n` : '', expand: match[2] === '', chomp });
  }
  return heredocs;
}
