import type { ContextSource, StepDescription, Vertex } from '../graph/vertex.js';
import { configTime } from '../image/history-times.js';
import { formatPlatform } from '../image/platform.js';
import type { ContainerConfig, History, ImageConfig, Platform } from '../image/types.js';
import { BuildChecks, DEFAULT_CHECK_CONFIG } from './checks/build-checks.js';
import { checkStageBases } from './checks/from-checks.js';
import { RULES } from './checks/rules.js';
import { closest } from './checks/suggest.js';
import { checkSyntax } from './checks/syntax-checks.js';
import type { ConvertOptions } from './convert.js';
import { dispatch } from './dispatch.js';
import { DockerfileError } from './errors.js';
import type { DockerfileStages, Instruction, Stage } from './instructions.js';
import { typeInstruction } from './instructions.js';
import { parseDockerfile } from './parse.js';
import { ExpansionError, expandWord, type Env, type ExpandOptions } from './shell-lexer.js';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HISTORY_COMMENT = 'buildkit.dockerfile.v0';
const DEFAULT_SHELL = ['/bin/sh', '-c'];
/** ARGs BuildKit reads itself, never set in the environment. */
const NON_ENV_ARGS = new Set(['BUILDKIT_SBOM_SCAN_CONTEXT', 'BUILDKIT_SBOM_SCAN_STAGE']);

/** A stage as converted so far: its graph, image config and scope (BuildKit's dispatchState). */
export interface StageState {
  stage: Stage;
  vertex: Vertex;
  config: ContainerConfig;
  history: History[];
  baseDiffIds: string[];
  author: string | undefined;
  platform: Platform;
  /** ARGs declared in this stage, in order, with their values (undefined: declared without one). */
  args: Map<string, string | undefined>;
  /**
   * The ARG values of the stage this one is built FROM (and its own base's): BuildKit carries them
   * in the build state's environment, so RUN and word expansion see them; RUN history lists only
   * this stage's ARGs.
   */
  inheritedArgs: Map<string, string>;
  shell: string[];
  cmdSet: boolean;
  checked: StageCheckState;
}

/** What the build checks remember of a stage's instructions. */
export interface StageCheckState {
  /** Every ARG the stage declared, with a value or not: no UndefinedVar for them. */
  declaredArgs: Set<string>;
  /** A WORKDIR was set in this stage (WorkdirRelativePath judges the first). */
  workdirSet: boolean;
  /** The line of the last CMD, ENTRYPOINT and HEALTHCHECK (MultipleInstructionsDisallowed). */
  lastLine: Map<string, number>;
}

/**
 * The state of one Dockerfile's conversion for one platform: the global ARG scope, the stages
 * converted (each once, depth first) and what every instruction needs to expand words and write history.
 */
export class Conversion {
  readonly file: string;
  /** Build args and ARGs an expansion read: what tells which `--build-arg`s were consumed. */
  readonly usedArgs = new Set<string>();
  readonly platformArgs: Map<string, string>;
  readonly globalArgs: Map<string, string>;
  /** Names declared by an ARG before the first FROM. */
  readonly declaredGlobals = new Set<string>();
  /** The `created` time of history entries; without SOURCE_DATE_EPOCH those of the layers, known once solved. */
  readonly created: string | undefined;
  readonly checks: BuildChecks;
  private readonly lexing: ExpandOptions;
  private readonly converted = new Map<number, Promise<StageState>>();
  /** Stages being converted: stages are converted depth first, so this is the chain that led here. */
  private readonly inProgress = new Set<number>();

  constructor(
    readonly parsed: DockerfileStages,
    readonly opts: ConvertOptions,
  ) {
    this.file = parsed.file;
    this.created = opts.sourceDateEpoch === undefined ? undefined : configTime(new Date(opts.sourceDateEpoch * 1000));
    this.lexing = { used: this.usedArgs, escapeToken: parsed.escape };
    this.platformArgs = platformArgValues(opts.platform, opts.buildPlatform);
    this.globalArgs = new Map(this.platformArgs);
    for (const arg of parsed.globalArgs) {
      for (const { name, defaultValue } of arg.args) {
        this.declaredGlobals.add(name);
        const value =
          opts.buildArgs.get(name) ??
          (defaultValue === undefined ? undefined : this.expand(defaultValue, this.globalArgs, arg.line));
        if (opts.buildArgs.has(name)) this.usedArgs.add(name);
        if (value !== undefined) this.globalArgs.set(name, value);
      }
    }
    this.checks = opts.checks ?? new BuildChecks(this.file, DEFAULT_CHECK_CONFIG);
    checkSyntax(parsed, this.checks);
    const scope = { values: this.globalArgs, declared: this.declaredGlobals, platformArgs: this.platformArgs };
    checkStageBases(parsed, scope, this.checks);
  }

  /** The stage `--target` names, or the last one. */
  targetStage(): Stage {
    const { stages } = this.parsed;
    const target = this.opts.target;
    const index = target === undefined ? stages.length - 1 : stages.findIndex((s) => s.name === target.toLowerCase());
    if (index >= 0) return stages[index]!;
    const names = stages.map((s) => s.name).filter(Boolean);
    throw new DockerfileError(this.file, 1, `target stage "${target}" could not be found`, {
      hint: names.length
        ? `the stages are: ${names.join(', ')}`
        : 'the Dockerfile has no named stages (FROM IMAGE AS NAME)',
    });
  }

  stageByName(name: string): Stage | undefined {
    const { stages } = this.parsed;
    return stages.find((s) => s.name === name.toLowerCase()) ?? (/^\d+$/.test(name) ? stages[Number(name)] : undefined);
  }

  /** Converts a stage once; `at` is the line that needs it, named when the stages depend on each other in a circle. */
  buildStage(stage: Stage, at: number = stage.from.line): Promise<StageState> {
    if (this.inProgress.has(stage.index)) {
      throw new DockerfileError(this.file, at, `circular dependency detected on stage: ${stage.name ?? stage.index}`);
    }
    let converting = this.converted.get(stage.index);
    if (!converting) {
      this.inProgress.add(stage.index);
      converting = this.runStage(stage).finally(() => this.inProgress.delete(stage.index));
      this.converted.set(stage.index, converting);
    }
    return converting;
  }

  /** What `--from=NAME` names: a named context, a stage (by name or index), or else an image. */
  async fromSource(name: string, platform: Platform, line: number, what: string): Promise<Vertex | ContextSource> {
    const at = { file: this.file, line };
    const named = this.opts.namedContexts?.get(name);
    if (named?.kind === 'dir') return named.source;
    if (named?.kind === 'image') return (await this.opts.resolveImage(named.ref, platform, at)).vertex;
    const stage = this.stageByName(name);
    if (stage) return (await this.buildStage(stage, line)).vertex;
    try {
      return (await this.opts.resolveImage(name, platform, at)).vertex;
    } catch (err) {
      const stages = this.parsed.stages.map((st) => st.name).filter(Boolean);
      throw new DockerfileError(this.file, line, `${what}=${name}: no stage, build context or image of that name`, {
        cause: err,
        hint: stages.length
          ? `the stages are: ${stages.join(', ')}`
          : 'name a stage with FROM IMAGE AS NAME, or give --build-context NAME=DIR',
      });
    }
  }

  expand(word: string, env: Env, line: number, unset?: Set<string>): string {
    try {
      return expandWord(word, env, unset ? { ...this.lexing, unset } : this.lexing);
    } catch (err) {
      if (!(err instanceof ExpansionError)) throw err;
      throw new DockerfileError(this.file, line, `failed to expand "${word}": ${err.message}`);
    }
  }

  /**
   * An expander of words in the scope of a stage as it is now (its ARGs, then its ENV), reporting
   * variables that are not set (UndefinedVar) unless `quiet` (EXPOSE, as in BuildKit).
   */
  expanderAt(s: StageState, line: number, { quiet = false } = {}): (word: string) => string {
    return (word) => {
      const env = stageEnv(s);
      const unset = new Set<string>();
      const expanded = this.expand(word, env, line, unset);
      for (const name of quiet ? [] : unset) {
        if (s.checked.declaredArgs.has(name) || NON_ENV_ARGS.has(name)) continue;
        this.checks.report(RULES.UndefinedVar, line, name, closest(name, env.keys()));
      }
      return expanded;
    };
  }

  /** Records an instruction in the stage's history, as BuildKit's commitToHistory does. */
  commit(s: StageState, createdBy: string, emptyLayer: boolean): void {
    s.history.push({
      ...(this.created ? { created: this.created } : {}),
      created_by: createdBy,
      comment: HISTORY_COMMENT,
      ...(emptyLayer ? { empty_layer: true } : {}),
    });
  }

  step(s: Pick<StageState, 'stage'>, ins: Instruction): StepDescription {
    return { file: this.file, line: ins.line, text: ins.original, stage: s.stage.name ?? String(s.stage.index) };
  }

  private async runStage(stage: Stage): Promise<StageState> {
    const from = stage.from;
    const fromEnv = new Map(this.globalArgs);
    const imageName = this.expand(from.image, fromEnv, from.line);
    const platform = from.platform
      ? parsePlatformFlag(this.expand(from.platform, fromEnv, from.line), this.file, from.line)
      : this.opts.platform;
    const state = await this.startStage(stage, imageName, platform);
    const triggers = state.config.OnBuild ?? [];
    state.config.OnBuild = null;
    for (const trigger of triggers) {
      const [instruction] = parseDockerfile(trigger, this.file).instructions.map((raw) =>
        typeInstruction({ ...raw, line: from.line }, { file: this.file, escape: this.parsed.escape }),
      );
      if (instruction) await dispatch(this, state, instruction);
    }
    for (const instruction of stage.instructions) await dispatch(this, state, instruction);
    return state;
  }

  private async startStage(stage: Stage, imageName: string, platform: Platform): Promise<StageState> {
    const checked = { declaredArgs: new Set<string>(), workdirSet: false, lastLine: new Map<string, number>() };
    const base = {
      stage,
      args: new Map<string, string | undefined>(),
      inheritedArgs: new Map<string, string>(),
      cmdSet: false,
      platform,
      author: undefined,
      checked,
    };
    const empty = { history: [], baseDiffIds: [], shell: DEFAULT_SHELL };
    const named = this.opts.namedContexts?.get(imageName);
    if (named?.kind === 'image') imageName = named.ref;
    if (named?.kind === 'dir') {
      const files: Vertex = {
        op: 'copy',
        input: { op: 'scratch' },
        source: named.source,
        sources: ['/'],
        dest: '/',
        chown: undefined,
        chmod: undefined,
        unpack: false,
        link: false,
        parents: false,
        excludes: [],
        description: this.step({ stage }, stage.from),
      };
      return { ...base, ...empty, vertex: files, config: scratchConfig() };
    }
    const parent = stage.index > 0 && !named ? this.stageByName(imageName) : undefined;
    if (parent && parent.index < stage.index) {
      const p = await this.buildStage(parent);
      return {
        ...base,
        inheritedArgs: argValues(p),
        vertex: p.vertex,
        config: structuredClone(p.config),
        history: [...p.history],
        baseDiffIds: p.baseDiffIds,
        shell: [...p.shell],
        author: p.author,
      };
    }
    if (imageName === 'scratch') return { ...base, ...empty, vertex: { op: 'scratch' }, config: scratchConfig() };
    const image = await this.opts.resolveImage(imageName, platform, { file: this.file, line: stage.from.line });
    this.checkBasePlatform(imageName, platform, image.config, stage.from.line);
    const config = structuredClone(image.config.config ?? {});
    if (!(config.Env ?? []).some((e) => e.startsWith('PATH='))) {
      config.Env = [...(config.Env ?? []), `PATH=${DEFAULT_PATH}`];
    }
    return {
      ...base,
      vertex: image.vertex,
      config,
      history: [...(image.config.history ?? [])],
      baseDiffIds: [...image.config.rootfs.diff_ids],
      shell: config.Shell ?? DEFAULT_SHELL,
      author: image.config.author,
    };
  }

  private checkBasePlatform(name: string, wanted: Platform, config: ImageConfig, line: number): void {
    if (config.os === wanted.os && config.architecture === wanted.architecture) return;
    const { os, architecture, variant } = config;
    const actual = { os, architecture, ...(variant ? { variant } : {}) };
    this.checks.report(RULES.InvalidBaseImagePlatform, line, name, formatPlatform(wanted), formatPlatform(actual));
  }
}

function scratchConfig(): ContainerConfig {
  return { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' };
}

/** The ARG values a stage's steps see: inherited from its base stage, then its own. */
export function argValues(s: StageState): Map<string, string> {
  const values = new Map(s.inheritedArgs);
  for (const [k, v] of s.args) if (v !== undefined) values.set(k, v);
  return values;
}

/** The words a stage's instructions expand against: its ARG values, overridden by its ENV. */
function stageEnv(s: StageState): Env {
  const env = argValues(s);
  for (const e of s.config.Env ?? []) {
    const eq = e.indexOf('=');
    env.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1));
  }
  return env;
}

function platformArgValues(target: Platform, build: Platform): Map<string, string> {
  return new Map([
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
  ]);
}

function parsePlatformFlag(value: string, file: string, line: number): Platform {
  const parts = value.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new DockerfileError(file, line, `invalid --platform "${value}": expected os/arch[/variant]`);
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
}
