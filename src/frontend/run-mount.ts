import { posix } from 'node:path';
import type { ExecMount } from '../graph/vertex.js';

/**
 * Where a bind or cache mount reads from, as written: `from=` (stage, image or named context; none: the context) and
 * `source=`.
 */
type FromFields = { from: string | undefined; source: string };

/** One `RUN --mount=...` as written, its values expanded and defaults filled in (BuildKit's commands_runmount). */
export type MountSpec =
  | (Omit<Extract<ExecMount, { type: 'bind' }>, 'source' | 'path'> & FromFields)
  | (Omit<Extract<ExecMount, { type: 'cache' }>, 'source' | 'path'> & FromFields)
  | Extract<ExecMount, { type: 'tmpfs' | 'secret' | 'ssh' }>;

const TYPES = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'] as const;
const KEY_ALIASES: Record<string, string> = {
  src: 'source',
  dst: 'target',
  destination: 'target',
  ro: 'readonly',
  rw: 'readwrite',
};
const KEYS = [
  'type',
  'from',
  'source',
  'target',
  'readonly',
  'readwrite',
  'id',
  'sharing',
  'required',
  'mode',
  'uid',
  'gid',
  'size',
  'env',
];

export class MountSyntaxError extends Error {}

/**
 * Parses a --mount value: comma-separated `key=value` fields (CSV quoting), bare booleans such as
 * `ro`. `sshIndex` numbers the default targets of ssh mounts in one RUN; a relative target is in
 * `workdir`, as in BuildKit.
 */
export function parseMount(
  value: string,
  expand: (word: string) => string,
  sshIndex: number,
  workdir = '/',
): MountSpec {
  const fields = new Map<string, string>();
  for (const field of splitCsv(value)) {
    const eq = field.indexOf('=');
    const rawKey = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase();
    const key = KEY_ALIASES[rawKey] ?? rawKey;
    if (!KEYS.includes(key)) throw new MountSyntaxError(`unexpected key '${rawKey}' in '${field}'`);
    if (eq < 0 && key !== 'readonly' && key !== 'readwrite' && key !== 'required') {
      throw new MountSyntaxError(`invalid field '${field}' must be a key=value pair`);
    }
    fields.set(key, eq < 0 ? 'true' : expand(field.slice(eq + 1)));
  }
  const type = fields.get('type') ?? 'bind';
  if (!(TYPES as readonly string[]).includes(type)) throw new MountSyntaxError(`unsupported mount type "${type}"`);
  const flag = (key: string, fallback: boolean) => {
    const v = fields.get(key);
    if (v === undefined) return fallback;
    if (!/^(1|0|t|f|true|false)$/i.test(v)) throw new MountSyntaxError(`invalid value for ${key}: ${v}`);
    return /^(1|t|true)$/i.test(v);
  };
  const int = (key: string, fallback: number, radix = 10) => {
    const v = fields.get(key);
    if (v === undefined) return fallback;
    const n = parseInt(v, radix);
    if (!/^[0-9]+$/.test(v) || Number.isNaN(n) || (radix === 8 && /[89]/.test(v)))
      throw new MountSyntaxError(`invalid value for ${key}: ${v}`);
    return n;
  };
  const readonly = fields.has('readwrite') ? !flag('readwrite', false) : flag('readonly', type === 'bind');
  let target = fields.get('target');
  if (target !== undefined && type !== 'secret' && type !== 'ssh' && !target.startsWith('/'))
    target = posix.join('/', workdir, target);
  for (const key of ['from', 'source', 'sharing']) {
    if (fields.has(key) && (type === 'tmpfs' || type === 'secret' || type === 'ssh'))
      throw new MountSyntaxError(`${key} is not valid for mount type ${type}`);
  }

  switch (type) {
    case 'bind':
    case 'cache': {
      if (!target) throw new MountSyntaxError(`mount type=${type} requires a target (target=/path)`);
      if (type === 'bind')
        return { type, target, from: fields.get('from'), source: fields.get('source') ?? '/', readwrite: !readonly };
      const sharing = fields.get('sharing') ?? 'shared';
      if (sharing !== 'shared' && sharing !== 'private' && sharing !== 'locked')
        throw new MountSyntaxError(`unsupported sharing value "${sharing}"`);
      return {
        type,
        target,
        from: fields.get('from'),
        source: fields.get('source') ?? '/',
        id: fields.get('id') || target,
        sharing,
        readonly,
        mode: int('mode', 0o755, 8),
        uid: int('uid', 0),
        gid: int('gid', 0),
      };
    }
    case 'tmpfs': {
      if (!target) throw new MountSyntaxError('mount type=tmpfs requires a target (target=/path)');
      const size = fields.get('size');
      return { type, target, size: size === undefined ? undefined : parseSize(size) };
    }
    default: {
      const secret = type === 'secret';
      const id = fields.get('id') || (secret ? (target ? posix.basename(target) : '') : 'default');
      if (secret && id === '' && !fields.get('env'))
        throw new MountSyntaxError('mount type=secret requires an id or a target');
      const env = fields.get('env');
      const defaultTarget = secret
        ? env && !fields.has('id')
          ? undefined
          : `/run/secrets/${id}`
        : `/run/buildkit/ssh_agent.${sshIndex}`;
      const resolved = target ?? defaultTarget;
      return {
        type: secret ? 'secret' : 'ssh',
        target:
          resolved === undefined ? '' : resolved.startsWith('/') ? resolved : posix.join('/run/secrets', resolved),
        id,
        required: flag('required', false),
        mode: int('mode', secret ? 0o400 : 0o600, 8),
        uid: int('uid', 0),
        gid: int('gid', 0),
        env,
      };
    }
  }
}

/** Bytes from a size such as 64m or 1g (docker's units: k, m, g in powers of 1024). */
function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(value);
  if (!m) throw new MountSyntaxError(`invalid size "${value}": expected e.g. 64m`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[
    m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'
  ];
  return Math.round(Number(m[1]) * unit);
}

/** Go encoding/csv on one record: fields split on commas, double quotes around a field, "" for a quote. */
function splitCsv(text: string): string[] {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else field += c;
  }
  fields.push(field);
  return fields.filter((f) => f !== '');
}
