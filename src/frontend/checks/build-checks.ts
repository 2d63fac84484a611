import { InvalidInputError, type TcbuildError } from '../../errors.js';
import type { CheckRule, RuleName } from './rules.js';

/** One finding of a build check, located at a Dockerfile line. */
export interface BuildCheckWarning {
  rule: RuleName;
  description: string;
  /** The rule's documentation page (InvalidBaseImagePlatform has none). */
  url: string | undefined;
  file: string;
  line: number;
  message: string;
}

/** `# check=skip=A,B;error=true` or the BUILDKIT_DOCKERFILE_CHECK build-arg, read as BuildKit's ParseLintOptions. */
export interface CheckConfig {
  skip: ReadonlySet<string>;
  skipAll: boolean;
  /** A build with warnings fails, naming their rules. */
  error: boolean;
}

export const DEFAULT_CHECK_CONFIG: CheckConfig = { skip: new Set(), skipAll: false, error: false };

const GO_BOOLEANS: Record<string, boolean> = {
  1: true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  0: false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/** Parses a check option string; `where` names its origin in errors (the directive's line, or the build-arg). */
export function parseCheckConfig(text: string | undefined, where: string): CheckConfig {
  const options = (text ?? '').trim();
  if (options === '') return DEFAULT_CHECK_CONFIG;
  const fail = (message: string): never => {
    throw new InvalidInputError(`${where}: ${message}`, {
      hint: 'write check=skip=RULE1,RULE2 (or skip=all), error=true, separated by ";"',
    });
  };
  const config = { skip: new Set<string>(), skipAll: false, error: false };
  for (const part of options.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) fail(`invalid check option ${JSON.stringify(part)}`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 'skip') {
      if (value === 'all') config.skipAll = true;
      else for (const name of value.split(',')) config.skip.add(name.trim());
    } else if (key === 'error') {
      const error = GO_BOOLEANS[value];
      if (error === undefined) fail(`invalid check option ${JSON.stringify(part)}: error= takes true or false`);
      config.error = error!;
    } else if (key !== 'experimental') {
      fail(`invalid check option ${JSON.stringify(key)}`);
    }
  }
  return config;
}

/**
 * The warnings of one build: each reported once (a multi-platform build converts the Dockerfile
 * once per platform), minus the rules the config skips.
 */
export class BuildChecks {
  readonly warnings: BuildCheckWarning[] = [];
  private readonly seen = new Set<string>();

  constructor(
    readonly file: string,
    readonly config: CheckConfig,
    private readonly onWarning: (warning: BuildCheckWarning) => void = () => undefined,
  ) {}

  report<A extends unknown[]>(rule: CheckRule<A>, line: number, ...args: A): void {
    if (this.config.skipAll || this.config.skip.has(rule.name)) return;
    const message = rule.format(...args);
    const key = `${rule.name}\n${line}\n${message}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    const warning: BuildCheckWarning = {
      rule: rule.name as RuleName,
      description: rule.description,
      url: rule.url,
      file: this.file,
      line,
      message,
    };
    this.warnings.push(warning);
    this.onWarning(warning);
  }

  /** The warnings by line, as `--check` lists them. */
  sorted(): BuildCheckWarning[] {
    return [...this.warnings].sort((a, b) => a.line - b.line);
  }

  /** With `error=true` and warnings: the error that fails the build. */
  violation(): TcbuildError | undefined {
    if (!this.config.error || this.warnings.length === 0) return undefined;
    const rules = [...new Set(this.sorted().map((w) => w.rule))];
    return new BuildCheckError(`lint violation found for rules: ${rules.join(', ')}`, {
      hint: `fix the lines the warnings name, or skip the rules with "# check=skip=${rules.join(',')}"`,
    });
  }
}

export class BuildCheckError extends InvalidInputError {}

/** BuildKit's short form of a warning: `FromAsCasing: 'as' and 'FROM' keywords' casing do not match (line 1)`. */
export function formatWarningShort(w: BuildCheckWarning): string {
  return `${w.rule}: ${w.message} (line ${w.line})`;
}
