import { InvalidInputError } from '../../errors.js';
import { parseReference } from '../../registry/reference.js';
import type { DockerfileStages, Stage } from '../instructions.js';
import { ExpansionError, expandWord, type Env } from '../shell-lexer.js';
import type { BuildChecks } from './build-checks.js';
import { RULES } from './rules.js';
import { closest } from './suggest.js';

/** The ARGs before the first FROM, as the FROM lines see them. */
export interface GlobalArgScope {
  /** Values: the platform ARGs, then each global ARG's build-arg or default. */
  values: Env;
  /** Every global ARG name, with a value or not. */
  declared: ReadonlySet<string>;
  /** TARGETPLATFORM and its kin. */
  platformArgs: Env;
}

interface Expansion {
  result: string;
  matched: Set<string>;
  unmatched: Set<string>;
}

/** The checks on every stage's FROM line: its image name and --platform against the global ARGs. */
export function checkStageBases(parsed: DockerfileStages, scope: GlobalArgScope, checks: BuildChecks): void {
  const known = new Set([...scope.values.keys(), ...scope.declared]);
  const expand = (word: string, env: Env) => expandTracking(word, env, parsed.escape);
  const defaults = defaultGlobalArgs(parsed, scope.platformArgs);
  for (const stage of parsed.stages) {
    const { from } = stage;
    const base = expand(from.image, scope.values);
    if (base) reportUndeclared(base, known, from.line, checks);
    const platform = from.platform === undefined ? undefined : expand(from.platform, scope.values);
    if (platform) {
      reportUndeclared(platform, known, from.line, checks);
      checkPlatformFlag(stage, platform, scope.values, checks);
    }
    const withDefaults = expand(from.image, defaults);
    if (withDefaults && !isImageName(withDefaults.result)) {
      checks.report(RULES.InvalidDefaultArgInFrom, from.line, from.image);
    }
  }
}

function reportUndeclared(expansion: Expansion, known: ReadonlySet<string>, line: number, checks: BuildChecks): void {
  for (const name of expansion.unmatched) {
    if (!known.has(name)) checks.report(RULES.UndefinedArgInFrom, line, name, closest(name, known));
  }
}

function checkPlatformFlag(stage: Stage, platform: Expansion, values: Env, checks: BuildChecks): void {
  const { from } = stage;
  const { matched, unmatched, result } = platform;
  const onlyTarget = matched.size === 1 && unmatched.size === 0 && matched.has('TARGETPLATFORM');
  if (onlyTarget && result === values.get('TARGETPLATFORM')) {
    checks.report(RULES.RedundantTargetPlatform, from.line, from.platform!);
  }
  if (matched.size > 0 || unmatched.size > 0) return;
  const [os, architecture, ...rest] = result.split('/');
  if (!os || !architecture || rest.length > 1) return;
  // A stage named for its platform (e.g. "build-arm64") means the constant.
  const name = stage.name ?? '';
  if (name.includes(os) || name.includes(architecture)) return;
  checks.report(RULES.FromPlatformFlagConstDisallowed, from.line, result);
}

/** The global ARGs as they are without any --build-arg: what InvalidDefaultArgInFrom judges. */
function defaultGlobalArgs(parsed: DockerfileStages, platformArgs: Env): Env {
  const values = new Map(platformArgs);
  for (const arg of parsed.globalArgs) {
    for (const { name, defaultValue } of arg.args) {
      if (defaultValue === undefined) continue;
      const value = expandTracking(defaultValue, values, parsed.escape)?.result;
      if (value !== undefined) values.set(name, value);
    }
  }
  return values;
}

/** The word expanded, with the names it read that were set and unset; undefined where it fails (an error later). */
function expandTracking(word: string, env: Env, escapeToken: '\\' | '`'): Expansion | undefined {
  const used = new Set<string>();
  const unmatched = new Set<string>();
  try {
    const result = expandWord(word, env, { escapeToken, used, unset: unmatched });
    return { result, matched: new Set([...used].filter((name) => !unmatched.has(name))), unmatched };
  } catch (err) {
    if (err instanceof ExpansionError) return undefined;
    throw err;
  }
}

function isImageName(name: string): boolean {
  try {
    parseReference(name);
    return true;
  } catch (err) {
    if (err instanceof InvalidInputError) return false;
    throw err;
  }
}
