import { DockerfileError } from './errors.js';
import type { Heredoc, ParsedDockerfile, RawFlag, RawInstruction } from './parse.js';

/** Typed Dockerfile instructions: syntax checked, words not yet expanded. */

export type CommandForm = { form: 'shell'; command: string } | { form: 'exec'; args: string[] };

interface Base {
  line: number;
  original: string;
  keywordAsWritten: string;
}

export interface KeyValue {
  key: string;
  value: string;
}

export interface HealthcheckOptions {
  interval?: string;
  timeout?: string;
  startPeriod?: string;
  startInterval?: string;
  retries?: string;
}

export type Instruction = Base &
  (
    | {
        kind: 'FROM';
        image: string;
        stageName: string | undefined;
        platform: string | undefined;
        /** `AS NAME` as written, for the casing checks. */
        as: { keyword: string; name: string } | undefined;
      }
    | {
        kind: 'RUN';
        command: CommandForm;
        heredocs: Heredoc[];
        mounts: string[];
        network: string | undefined;
        security: string | undefined;
      }
    | { kind: 'CMD' | 'ENTRYPOINT'; command: CommandForm }
    | { kind: 'SHELL'; args: string[] }
    | { kind: 'ENV' | 'LABEL'; pairs: KeyValue[] /** `ENV key value`, without `=` */; legacyForm: boolean }
    | { kind: 'ARG'; args: { name: string; defaultValue: string | undefined }[] }
    | {
        kind: 'COPY' | 'ADD';
        sources: string[];
        dest: string;
        heredocs: Heredoc[];
        from: string | undefined;
        chown: string | undefined;
        chmod: string | undefined;
        link: boolean;
        parents: boolean;
        excludes: string[];
        checksum: string | undefined;
        /** ADD --keep-git-dir (undefined when not given). */
        keepGitDir: boolean | undefined;
      }
    | { kind: 'WORKDIR'; path: string }
    | { kind: 'USER'; user: string }
    | { kind: 'EXPOSE'; ports: string[] }
    | { kind: 'VOLUME'; paths: string[] }
    | { kind: 'STOPSIGNAL'; signal: string }
    | { kind: 'MAINTAINER'; name: string }
    | { kind: 'HEALTHCHECK'; test: string[] | null; options: HealthcheckOptions }
    | { kind: 'ONBUILD'; trigger: string }
  );

export type InstructionOf<K extends Instruction['kind']> = Extract<Instruction, { kind: K }>;

export interface Stage {
  from: InstructionOf<'FROM'>;
  name: string | undefined;
  index: number;
  instructions: Instruction[];
}

export interface DockerfileStages {
  file: string;
  escape: '\\' | '`';
  globalArgs: InstructionOf<'ARG'>[];
  stages: Stage[];
}

const FLAGS: Record<string, string[]> = {
  FROM: ['platform'],
  RUN: ['mount', 'network', 'security'],
  COPY: ['from', 'chown', 'chmod', 'link', 'parents', 'exclude'],
  ADD: ['chown', 'chmod', 'link', 'checksum', 'keep-git-dir', 'exclude'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
};

const KEYWORDS = [
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'MAINTAINER',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ARG',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
];

/** Types every instruction and groups them into stages (global ARGs before the first FROM). */
export function toStages(parsed: ParsedDockerfile): DockerfileStages {
  const globalArgs: InstructionOf<'ARG'>[] = [];
  const stages: Stage[] = [];
  for (const raw of parsed.instructions) {
    const instruction = typeInstruction(raw, parsed);
    const current = stages.at(-1);
    if (instruction.kind === 'FROM') {
      stages.push({ from: instruction, name: instruction.stageName, index: stages.length, instructions: [] });
    } else if (current) {
      current.instructions.push(instruction);
    } else if (instruction.kind === 'ARG') {
      globalArgs.push(instruction);
    } else {
      throw new DockerfileError(
        parsed.file,
        raw.line,
        `${raw.keyword} before the first FROM: only ARG may come before FROM`,
      );
    }
  }
  if (stages.length === 0) {
    throw new DockerfileError(parsed.file, 1, 'the Dockerfile has no FROM instruction', {
      hint: 'start the build stage with FROM IMAGE (or FROM scratch)',
    });
  }
  return { file: parsed.file, escape: parsed.escape, globalArgs, stages };
}

export function typeInstruction(raw: RawInstruction, parsed: Pick<ParsedDockerfile, 'file' | 'escape'>): Instruction {
  const fail = (message: string, hint?: string): never => {
    throw new DockerfileError(parsed.file, raw.line, message, hint ? { hint } : {});
  };
  if (!KEYWORDS.includes(raw.keyword))
    fail(`unknown instruction: ${raw.keyword}`, `instructions are ${KEYWORDS.join(', ')}`);
  const allowed = FLAGS[raw.keyword] ?? [];
  for (const flag of raw.flags) {
    if (!allowed.includes(flag.name)) fail(`unknown flag: --${flag.name} for ${raw.keyword}`);
  }
  const base = { line: raw.line, original: raw.original, keywordAsWritten: raw.keywordAsWritten };
  const flag = (name: string): string | undefined => lastFlag(raw.flags, name);
  const words = () => splitWords(raw.args, parsed.escape);
  const requireArgs = (min: number, what: string) => {
    if (words().length < min) fail(`${raw.keyword} requires ${what}`);
  };

  switch (raw.keyword) {
    case 'FROM': {
      const w = words();
      if (w.length !== 1 && !(w.length === 3 && w[1]!.toUpperCase() === 'AS')) {
        fail('FROM requires either one or three arguments: FROM IMAGE [AS NAME]');
      }
      const stageName = w.length === 3 ? w[2]!.toLowerCase() : undefined;
      if (stageName !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(stageName)) {
        fail(`invalid name for build stage: "${w[2]}", name can't start with a number or contain symbols`);
      }
      const as = w.length === 3 ? { keyword: w[1]!, name: w[2]! } : undefined;
      return { ...base, kind: 'FROM', image: w[0]!, stageName, platform: flag('platform'), as };
    }
    case 'RUN': {
      if (raw.args.trim() === '') fail('RUN requires at least one argument');
      return {
        ...base,
        kind: 'RUN',
        command: commandForm(raw.args),
        heredocs: raw.heredocs,
        mounts: raw.flags.filter((f) => f.name === 'mount').map((f) => f.value ?? ''),
        network: flag('network'),
        security: flag('security'),
      };
    }
    case 'CMD':
    case 'ENTRYPOINT':
      return { ...base, kind: raw.keyword, command: commandForm(raw.args) };
    case 'SHELL': {
      const json = parseJsonArray(raw.args);
      if (json === undefined || json.length === 0)
        fail('SHELL requires the arguments to be in JSON form, e.g. SHELL ["/bin/sh", "-c"]');
      return { ...base, kind: 'SHELL', args: json! };
    }
    case 'ENV':
    case 'LABEL':
      return { ...base, kind: raw.keyword, ...nameValuePairs(raw, parsed.escape, fail) };
    case 'ARG': {
      requireArgs(1, 'at least one argument: ARG NAME[=DEFAULT]');
      const args = words().map((word) => {
        const eq = word.indexOf('=');
        const name = eq < 0 ? word : word.slice(0, eq);
        if (name === '') fail('ARG names can not be blank');
        return { name, defaultValue: eq < 0 ? undefined : word.slice(eq + 1) };
      });
      return { ...base, kind: 'ARG', args };
    }
    case 'COPY':
    case 'ADD': {
      const list = parseJsonArray(raw.args) ?? words();
      const needed = raw.heredocs.length > 0 ? 1 : 2;
      if (list.length < needed)
        fail(
          `${raw.keyword} requires at least two arguments, but only one was provided. Destination could not be ` +
            `determined.`,
        );
      const boolFlag = (name: string) => {
        const value = flag(name);
        return value !== undefined && value !== 'false';
      };
      return {
        ...base,
        kind: raw.keyword,
        sources: list.slice(0, -1),
        dest: list.at(-1)!,
        heredocs: raw.heredocs,
        from: raw.keyword === 'COPY' ? flag('from') : undefined,
        chown: flag('chown'),
        chmod: flag('chmod'),
        link: boolFlag('link'),
        parents: boolFlag('parents'),
        excludes: raw.flags.filter((f) => f.name === 'exclude').map((f) => f.value ?? ''),
        checksum: flag('checksum'),
        keepGitDir: flag('keep-git-dir') === undefined ? undefined : boolFlag('keep-git-dir'),
      };
    }
    case 'WORKDIR':
      if (raw.args.trim() === '') fail('WORKDIR requires exactly one argument');
      return { ...base, kind: 'WORKDIR', path: raw.args.trim() };
    case 'USER':
      requireArgs(1, 'exactly one argument');
      if (words().length > 1) fail('USER requires exactly one argument');
      return { ...base, kind: 'USER', user: words()[0]! };
    case 'EXPOSE':
      requireArgs(1, 'at least one argument');
      return { ...base, kind: 'EXPOSE', ports: words() };
    case 'VOLUME': {
      const paths = parseJsonArray(raw.args) ?? words();
      if (paths.length === 0 || paths.some((p) => p.trim() === '')) fail('VOLUME specified can not be an empty string');
      return { ...base, kind: 'VOLUME', paths };
    }
    case 'STOPSIGNAL':
      if (words().length !== 1) fail('STOPSIGNAL requires exactly one argument');
      return { ...base, kind: 'STOPSIGNAL', signal: words()[0]! };
    case 'MAINTAINER':
      requireArgs(1, 'exactly one argument');
      return { ...base, kind: 'MAINTAINER', name: raw.args.trim() };
    case 'HEALTHCHECK':
      return { ...base, kind: 'HEALTHCHECK', ...healthcheck(raw, fail) };
    case 'ONBUILD': {
      const trigger = raw.args.trim();
      const keyword = trigger.split(/\s/)[0]!.toUpperCase();
      if (keyword === '') fail('ONBUILD requires at least one argument');
      if (keyword === 'ONBUILD') fail("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
      if (keyword === 'FROM' || keyword === 'MAINTAINER') fail(`${keyword} isn't allowed as an ONBUILD trigger`);
      return { ...base, kind: 'ONBUILD', trigger };
    }
  }
  return fail(`unknown instruction: ${raw.keyword}`);
}

function lastFlag(flags: RawFlag[], name: string): string | undefined {
  const found = flags.filter((f) => f.name === name).at(-1);
  return found === undefined ? undefined : (found.value ?? 'true');
}

/** BuildKit's parseMaybeJSON: a JSON array of strings is the exec form, anything else the shell form. */
function commandForm(args: string): CommandForm {
  const json = parseJsonArray(args);
  return json !== undefined ? { form: 'exec', args: json } : { form: 'shell', command: args };
}

/**
 * The JSON array of strings `text` starts with. As BuildKit's parser decodes the first JSON value
 * and ignores what follows it, `["a"] # note` is `["a"]`.
 */
function parseJsonArray(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(trimmed.slice(0, firstArrayEnd(trimmed)));
    if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  } catch {
    // not JSON: the shell form, as in BuildKit
  }
  return undefined;
}

/** Where the array that `text` starts with ends (past its `]`), or the text's length when it does not end. */
function firstArrayEnd(text: string): number {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') depth++;
    else if ((c === ']' || c === '}') && --depth === 0) return i + 1;
  }
  return text.length;
}

/** Splits on unquoted whitespace, keeping quotes and escapes for the expander (BuildKit's parseWords). */
export function splitWords(text: string, escape: string): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === escape && quote !== "'" && i + 1 < text.length) {
      word += c + text[++i]!;
      continue;
    }
    if (quote !== null) {
      if (c === quote) quote = null;
      word += c;
    } else if (/\s/.test(c)) {
      if (word !== '') words.push(word);
      word = '';
    } else {
      if (c === '"' || c === "'") quote = c;
      word += c;
    }
  }
  if (word !== '') words.push(word);
  return words;
}

function nameValuePairs(
  raw: RawInstruction,
  escape: string,
  fail: (m: string) => never,
): { pairs: KeyValue[]; legacyForm: boolean } {
  const words = splitWords(raw.args, escape);
  if (words.length === 0) fail(`${raw.keyword} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    // legacy `ENV key value...`: the rest of the line is the value
    const key = words[0]!;
    const value = raw.args.trim().slice(key.length).trim();
    if (raw.keyword === 'ENV' && value === '') fail('ENV must have two arguments');
    return { pairs: [{ key, value }], legacyForm: true };
  }
  const pairs = words.map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) fail(`Syntax error - can't find = in "${word}". Must be of the form: name=value`);
    if (eq === 0) fail(`${raw.keyword} names can not be blank`);
    return { key: word.slice(0, eq), value: word.slice(eq + 1) };
  });
  return { pairs, legacyForm: false };
}

function healthcheck(
  raw: RawInstruction,
  fail: (m: string) => never,
): { test: string[] | null; options: HealthcheckOptions } {
  const args = raw.args.trim();
  const type = args.split(/\s/)[0]!.toUpperCase();
  if (type === 'NONE') {
    if (args.length > 4 || raw.flags.length > 0) fail('HEALTHCHECK NONE takes no arguments or options');
    return { test: ['NONE'], options: {} };
  }
  if (type !== 'CMD') fail('HEALTHCHECK requires CMD (or NONE): HEALTHCHECK [OPTIONS] CMD command');
  const command = commandForm(args.slice(3));
  const test = command.form === 'exec' ? ['CMD', ...command.args] : ['CMD-SHELL', command.command.trim()];
  if (test.length === 1 || test[1] === '') fail('HEALTHCHECK CMD requires a command');
  const options: HealthcheckOptions = {};
  const names: Record<string, keyof HealthcheckOptions> = {
    interval: 'interval',
    timeout: 'timeout',
    'start-period': 'startPeriod',
    'start-interval': 'startInterval',
    retries: 'retries',
  };
  for (const f of raw.flags) options[names[f.name]!] = f.value ?? '';
  return { test, options };
}
