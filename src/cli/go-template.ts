import { InvalidInputError } from '../errors.js';

/**
 * The part of Go's text/template that docker's `--format` flags are used with: `{{.Field.Sub}}`,
 * `{{.}}`, `{{json .X}}`, `{{index .X "key"}}`, `{{join .X ", "}}`, `{{lower .X}}`, `{{upper .X}}`,
 * `{{range .X}}…{{end}}`, and `\t`/`\n` escapes as docker reads them. Values print as Go prints
 * them (`[a b]`, `map[k:v]`).
 */
export function renderTemplate(template: string, data: unknown): string {
  const nodes = parse(tokenize(template.replace(/\\t/g, '\t').replace(/\\n/g, '\n')), template);
  return render(nodes, data, true);
}

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; words: string[] }
  | { kind: 'range'; words: string[]; body: Node[] };

function tokenize(template: string): (string | { action: string })[] {
  const out: (string | { action: string })[] = [];
  const action = /\{\{-?\s*(.*?)\s*-?\}\}/gs;
  let last = 0;
  for (const m of template.matchAll(action)) {
    if (m.index > last) out.push(template.slice(last, m.index));
    out.push({ action: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < template.length) out.push(template.slice(last));
  if (out.some((t) => typeof t === 'string' && t.includes('{{')))
    throw unsupported(template, 'an unclosed action ({{ without }})');
  return out;
}

function parse(tokens: (string | { action: string })[], template: string): Node[] {
  const stack: Node[][] = [[]];
  const ranges: Extract<Node, { kind: 'range' }>[] = [];
  for (const token of tokens) {
    const top = stack[stack.length - 1]!;
    if (typeof token === 'string') {
      top.push({ kind: 'text', text: token });
      continue;
    }
    const words = splitWords(token.action, template);
    if (words[0] === 'range') {
      const node = { kind: 'range' as const, words: words.slice(1), body: [] };
      top.push(node);
      ranges.push(node);
      stack.push(node.body);
    } else if (words[0] === 'end') {
      if (!ranges.pop()) throw unsupported(template, '{{end}} without {{range}}');
      stack.pop();
    } else top.push({ kind: 'action', words });
  }
  if (ranges.length > 0) throw unsupported(template, '{{range}} without {{end}}');
  return stack[0]!;
}

function splitWords(action: string, template: string): string[] {
  const words = action.match(/"(?:[^"\\]|\\.)*"|[^\s]+/g) ?? [];
  if (words.length === 0) throw unsupported(template, 'an empty {{}}');
  return words;
}

/** `struct`: data is docker's top-level struct, whose unknown fields are errors (below, maps give <no value>). */
function render(nodes: Node[], data: unknown, struct: boolean): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'action') out += goString(evaluate(node.words, data, struct));
    else {
      const list = evaluate(node.words, data, struct);
      const items = Array.isArray(list) ? list : list && typeof list === 'object' ? Object.values(list) : [];
      for (const item of items) out += render(node.body, item, false);
    }
  }
  return out;
}

const FUNCTIONS: Record<string, (args: unknown[]) => unknown> = {
  json: ([v]) => JSON.stringify(v ?? null),
  index: ([v, key]) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[String(key)] : undefined),
  join: ([v, sep]) => (Array.isArray(v) ? v.map(goString).join(String(sep ?? '')) : goString(v)),
  lower: ([v]) => goString(v).toLowerCase(),
  upper: ([v]) => goString(v).toUpperCase(),
};

function evaluate(words: string[], data: unknown, struct: boolean): unknown {
  const [head, ...rest] = words;
  const fn = FUNCTIONS[head!];
  if (fn) return fn(rest.map((w) => argument(w, data, struct)));
  if (rest.length > 0 || !head!.startsWith('.'))
    throw new InvalidInputError(`--format: unsupported template action {{${words.join(' ')}}}`, {
      hint: 'use {{.Field}}, {{json .Field}}, {{index .Field "key"}}, {{join .Field ","}}, {{range .Field}}…{{end}}',
    });
  return field(head!, data, struct);
}

function argument(word: string, data: unknown, struct: boolean): unknown {
  if (word.startsWith('"')) return JSON.parse(word) as string;
  if (word.startsWith('.')) return field(word, data, struct);
  throw new InvalidInputError(`--format: unsupported template argument ${word}`);
}

/**
 * `.A.B` as Go's text/template reads it: a field the top-level struct lacks is an error, a missing map key <no value>.
 */
function field(path: string, data: unknown, struct: boolean): unknown {
  const names = path.split('.').filter(Boolean);
  if (struct && names.length > 0 && data && typeof data === 'object' && !(names[0]! in data)) {
    const fields = Object.keys(data).filter((k) => /^[A-Z]/.test(k));
    throw new InvalidInputError(`--format: can't evaluate field ${names[0]}: there is no {{.${names[0]}}}`, {
      hint: `the fields are ${fields.join(', ')}`,
    });
  }
  let value = data;
  for (const name of names)
    value = value && typeof value === 'object' ? (value as Record<string, unknown>)[name] : undefined;
  return value;
}

/** How Go's fmt prints a value with %v. */
function goString(value: unknown): string {
  if (value === undefined || value === null) return '<no value>';
  if (Array.isArray(value)) return `[${value.map(goString).join(' ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `map[${entries.map(([k, v]) => `${k}:${goString(v)}`).join(' ')}]`;
  }
  return String(value);
}

function unsupported(template: string, what: string): InvalidInputError {
  return new InvalidInputError(`--format ${JSON.stringify(template)}: ${what}`);
}

/**
 * Docker's `--format table …`: the header from the fields' column names, then a row per item,
 * columns split at tabs and aligned (as Go's tabwriter with padding 3).
 */
export function renderTable(
  template: string,
  rows: readonly unknown[],
  headers: Readonly<Record<string, string>>,
): string {
  const body = template.replace(/^table\s*/, '');
  const header = body.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, name: string) => headers[name] ?? name.toUpperCase());
  const lines = [header, ...rows.map((row) => renderTemplate(body, row))].map((line) =>
    line.replace(/\\t/g, '\t').split('\t'),
  );
  const widths: number[] = [];
  for (const cells of lines) {
    cells.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return `${lines
    .map((cells) =>
      cells
        .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]! + 3)))
        .join('')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
