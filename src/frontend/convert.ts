import { posix } from 'node:path';
import type { ContextSource, ExecMount, HttpSource, Source, StepDescription, Vertex } from '../graph/vertex.js';
import { configTime } from '../image/history-times.js';
import { formatPlatform } from '../image/platform.js';
import type { ContainerConfig, HealthConfig, History, ImageConfig, Platform } from '../image/types.js';
import { downloadName } from './download-name.js';
import { DockerfileError } from './errors.js';
import type { CommandForm, DockerfileStages, Instruction, InstructionOf, Stage } from './instructions.js';
import { typeInstruction } from './instructions.js';
import { parseDockerfile, type Heredoc } from './parse.js';
import { MountSyntaxError, parseMount, type MountSpec } from './run-mount.js';
import { ExpansionError, expandWord, type Env, type ExpandOptions } from './shell-lexer.js';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HISTORY_COMMENT = 'buildkit.dockerfile.v0';
/** Where a RUN heredoc that starts with `#!` is mounted to be run as a file. */
const HEREDOC_PIPES = '/dev/pipes';
const PROXY_ARGS = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy'];

export type NamedContext = { kind: 'dir'; source: ContextSource } | { kind: 'image'; ref: string };

export interface BaseImage {
  vertex: Vertex;
  config: ImageConfig;
}

export interface ConvertOptions {
  buildArgs: ReadonlyMap<string, string>;
  target: string | undefined;
  platform: Platform;
  buildPlatform: Platform;
  context: ContextSource;
  /** `--build-context NAME=…`: they take the place of a stage or image of that name in FROM, COPY --from and RUN --mount from=. */
  namedContexts?: ReadonlyMap<string, NamedContext>;
  /** Resolves a FROM or COPY --from image for a platform (local store first, then the registry). */
  resolveImage(ref: string, platform: Platform, at: { file: string; line: number }): Promise<BaseImage>;
  /** SOURCE_DATE_EPOCH in seconds, for `created` fields. */
  sourceDateEpoch: number | undefined;
  /** The network of a RUN without --network (`build --network`). */
  network: 'private' | 'host' | 'none';
  warn(message: string): void;
}

/** What the solver builds and how the image config around its layers reads. */
export interface BuildPlan {
  vertex: Vertex;
  /** The image config without rootfs (the solver knows the layers); history covers every layer. */
  config: Omit<ImageConfig, 'rootfs'>;
  baseDiffIds: string[];
}

interface StageState {
  stage: Stage;
  vertex: Vertex;
  config: ContainerConfig;
  history: History[];
  baseDiffIds: string[];
  author: string | undefined;
  platform: Platform;
  /** ARGs declared in this stage with their values. */
  args: Map<string, string>;
  shell: string[];
  cmdSet: boolean;
}

/** Lowers typed stages to a build graph for one platform, tracking the image config as BuildKit's dockerfile2llb does. */
export async function convert(parsed: DockerfileStages, opts: ConvertOptions): Promise<BuildPlan> {
  const file = parsed.file;
  // Without SOURCE_DATE_EPOCH the times are those of the layers, known once solved (withCreatedTimes).
  const created = opts.sourceDateEpoch === undefined ? undefined : configTime(new Date(opts.sourceDateEpoch * 1000));
  const usedArgs = new Set<string>();
  const lexing: ExpandOptions = { used: usedArgs, escapeToken: parsed.escape };
  const platformArgs = platformArgValues(opts.platform, opts.buildPlatform);

  const globalArgs = new Map<string, string>(platformArgs);
  const declaredGlobals = new Set<string>();
  for (const arg of parsed.globalArgs) {
    for (const { name, defaultValue } of arg.args) {
      declaredGlobals.add(name);
      const value = opts.buildArgs.get(name) ?? (defaultValue === undefined ? undefined : expand(defaultValue, globalArgs, file, arg.line, lexing));
      if (opts.buildArgs.has(name)) usedArgs.add(name);
      if (value !== undefined) globalArgs.set(name, value);
    }
  }

  const targetIndex = opts.target === undefined ? parsed.stages.length - 1 : parsed.stages.findIndex((s) => s.name === opts.target?.toLowerCase());
  if (targetIndex < 0) {
    const names = parsed.stages.map((s) => s.name).filter(Boolean);
    throw new DockerfileError(file, 1, `target stage "${opts.target}" could not be found`, {
      hint: names.length ? `the stages are: ${names.join(', ')}` : 'the Dockerfile has no named stages (FROM IMAGE AS NAME)',
    });
  }

  const done = new Map<number, Promise<StageState>>();
  const stageByName = (name: string): Stage | undefined =>
    parsed.stages.find((s) => s.name === name.toLowerCase()) ?? (/^\d+$/.test(name) ? parsed.stages[Number(name)] : undefined);

  /** Stages being converted: stages are converted depth first, so this is the chain that led here. */
  const inProgress = new Set<number>();
  const buildStage = (stage: Stage, at: number = stage.from.line): Promise<StageState> => {
    if (inProgress.has(stage.index)) {
      throw new DockerfileError(file, at, `circular dependency detected on stage: ${stage.name ?? stage.index}`);
    }
    let p = done.get(stage.index);
    if (!p) {
      inProgress.add(stage.index);
      p = runStage(stage).finally(() => inProgress.delete(stage.index));
      done.set(stage.index, p);
    }
    return p;
  };

  /** What `--from=NAME` names: a named context, a stage (by name or index), or else an image. */
  const fromSource = async (name: string, platform: Platform, line: number, what: string): Promise<Vertex | ContextSource> => {
    const named = opts.namedContexts?.get(name);
    if (named?.kind === 'dir') return named.source;
    if (named?.kind === 'image') return (await opts.resolveImage(named.ref, platform, { file, line })).vertex;
    const stage = stageByName(name);
    if (stage) return (await buildStage(stage, line)).vertex;
    try {
      return (await opts.resolveImage(name, platform, { file, line })).vertex;
    } catch (err) {
      const stages = parsed.stages.map((st) => st.name).filter(Boolean);
      throw new DockerfileError(file, line, `${what}=${name}: no stage, build context or image of that name`, {
        cause: err,
        hint: stages.length ? `the stages are: ${stages.join(', ')}` : 'name a stage with FROM IMAGE AS NAME, or give --build-context NAME=DIR',
      });
    }
  };

  const runStage = async (stage: Stage): Promise<StageState> => {
    const from = stage.from;
    const fromEnv = new Map(globalArgs);
    const imageName = expand(from.image, fromEnv, file, from.line, lexing);
    const platform = from.platform ? parsePlatformFlag(expand(from.platform, fromEnv, file, from.line, lexing), file, from.line) : opts.platform;
    const state = await startStage(stage, imageName, platform);
    const triggers = state.config.OnBuild ?? [];
    state.config.OnBuild = null;
    for (const trigger of triggers) {
      const [instruction] = parseDockerfile(trigger, file).instructions.map((raw) => typeInstruction({ ...raw, line: from.line }, { file, escape: parsed.escape }));
      if (instruction) await dispatch(state, instruction);
    }
    for (const instruction of stage.instructions) await dispatch(state, instruction);
    return state;
  };

  const startStage = async (stage: Stage, imageName: string, platform: Platform): Promise<StageState> => {
    const base = { stage, args: new Map<string, string>(), cmdSet: false, platform, author: undefined };
    const named = opts.namedContexts?.get(imageName);
    if (named?.kind === 'image') imageName = named.ref;
    if (named?.kind === 'dir') {
      const files: Vertex = { op: 'copy', input: { op: 'scratch' }, source: named.source, sources: ['/'], dest: '/', chown: undefined, chmod: undefined, unpack: false, link: false, parents: false, excludes: [], description: { file, line: stage.from.line, text: stage.from.original, stage: stage.name ?? String(stage.index) } };
      return { ...base, vertex: files, config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' }, history: [], baseDiffIds: [], shell: ['/bin/sh', '-c'] };
    }
    const parent = stage.index > 0 && !named ? stageByName(imageName) : undefined;
    if (parent && parent.index < stage.index) {
      const p = await buildStage(parent);
      return { ...base, vertex: p.vertex, config: structuredClone(p.config), history: [...p.history], baseDiffIds: p.baseDiffIds, shell: [...p.shell], author: p.author };
    }
    if (imageName === 'scratch') {
      return { ...base, vertex: { op: 'scratch' }, config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: '/' }, history: [], baseDiffIds: [], shell: ['/bin/sh', '-c'] };
    }
    const image = await opts.resolveImage(imageName, platform, { file, line: stage.from.line });
    const config = structuredClone(image.config.config ?? {});
    if (!(config.Env ?? []).some((e) => e.startsWith('PATH='))) config.Env = [...(config.Env ?? []), `PATH=${DEFAULT_PATH}`];
    return {
      ...base,
      vertex: image.vertex,
      config,
      history: [...(image.config.history ?? [])],
      baseDiffIds: [...image.config.rootfs.diff_ids],
      shell: config.Shell ?? ['/bin/sh', '-c'],
      author: image.config.author,
    };
  };

  const dispatch = async (s: StageState, ins: Instruction): Promise<void> => {
    const env = () => expansionEnv(s);
    const ex = (word: string) => expand(word, env(), file, ins.line, lexing);
    const commit = (createdBy: string, emptyLayer: boolean) => {
      s.history.push({ ...(created ? { created } : {}), created_by: createdBy, comment: HISTORY_COMMENT, ...(emptyLayer ? { empty_layer: true } : {}) });
    };
    const step = { file, line: ins.line, text: ins.original, stage: s.stage.name ?? String(s.stage.index) };
    switch (ins.kind) {
      case 'ENV': {
        const before = env();
        const set = ins.pairs.map(({ key, value }) => [expand(key, before, file, ins.line, lexing), expand(value, before, file, ins.line, lexing)] as const);
        for (const [key, value] of set) s.config.Env = setEnv(s.config.Env ?? [], key, value);
        commit(`ENV ${set.map(([k, v]) => `${k}=${v}`).join(' ')}`, true);
        return;
      }
      case 'ARG': {
        const commitStrs: string[] = [];
        for (const { name, defaultValue } of ins.args) {
          let value = opts.buildArgs.get(name);
          if (value !== undefined) usedArgs.add(name);
          value ??= defaultValue !== undefined ? ex(defaultValue) : globalArgs.get(name);
          if (value !== undefined) s.args.set(name, value);
          else s.args.delete(name);
          // BuildKit records the value an ARG takes, except a predefined platform ARG's.
          const implicit = defaultValue === undefined && !opts.buildArgs.has(name) && !declaredGlobals.has(name);
          commitStrs.push(value === undefined || implicit ? name : `${name}=${value}`);
        }
        commit(`ARG ${commitStrs.join(' ')}`, true);
        return;
      }
      case 'LABEL': {
        const set = ins.pairs.map(({ key, value }) => [ex(key), ex(value)] as const);
        s.config.Labels = { ...(s.config.Labels ?? {}) };
        for (const [key, value] of set) s.config.Labels[key] = value;
        commit(`LABEL ${set.map(([k, v]) => `${k}=${v}`).join(' ')}`, true);
        return;
      }
      case 'MAINTAINER':
        s.author = ins.name;
        commit(`MAINTAINER ${ins.name}`, true);
        return;
      case 'EXPOSE': {
        const ports = ins.ports.flatMap((p) => ex(p).split(/\s+/).filter(Boolean)).map((p) => normalizePort(p, file, ins.line));
        s.config.ExposedPorts = { ...(s.config.ExposedPorts ?? {}) };
        for (const port of ports) s.config.ExposedPorts[port] = {};
        commit(`EXPOSE map[${[...new Set(ports)].sort().map((p) => `${p}:{}`).join(' ')}]`, true);
        return;
      }
      case 'USER': {
        const user = ex(ins.user);
        s.config.User = user;
        commit(`USER ${user}`, true);
        return;
      }
      case 'WORKDIR': {
        const dir = posix.resolve(s.config.WorkingDir || '/', ex(ins.path));
        s.config.WorkingDir = dir;
        if (dir !== '/') s.vertex = { op: 'mkdir', input: s.vertex, path: dir, user: s.config.User ?? '', description: step };
        commit(`WORKDIR ${dir}`, dir === '/');
        return;
      }
      case 'VOLUME': {
        const paths = ins.paths.map(ex);
        s.config.Volumes = { ...(s.config.Volumes ?? {}) };
        for (const p of paths) s.config.Volumes[p] = {};
        commit(`VOLUME [${paths.join(' ')}]`, true);
        return;
      }
      case 'STOPSIGNAL': {
        const signal = ex(ins.signal);
        s.config.StopSignal = signal;
        commit(`STOPSIGNAL ${signal}`, true);
        return;
      }
      case 'SHELL':
        s.shell = ins.args;
        s.config.Shell = ins.args;
        commit(`SHELL [${ins.args.join(' ')}]`, true);
        return;
      case 'CMD': {
        s.config.Cmd = commandArgs(ins.command, s.shell);
        s.config.ArgsEscaped = true;
        s.cmdSet = true;
        commit(`CMD ${goQuoteList(s.config.Cmd)}`, true);
        return;
      }
      case 'ENTRYPOINT': {
        s.config.Entrypoint = commandArgs(ins.command, s.shell);
        if (!s.cmdSet) s.config.Cmd = null;
        commit(`ENTRYPOINT ${goQuoteList(s.config.Entrypoint)}`, true);
        return;
      }
      case 'HEALTHCHECK': {
        if (ins.test?.[0] === 'NONE') s.config.Healthcheck = { Test: ['NONE'] };
        else {
          const o = ins.options;
          s.config.Healthcheck = {
            Test: ins.test ?? [],
            ...(o.interval ? { Interval: durationNs(o.interval, file, ins.line) } : {}),
            ...(o.timeout ? { Timeout: durationNs(o.timeout, file, ins.line) } : {}),
            ...(o.startPeriod ? { StartPeriod: durationNs(o.startPeriod, file, ins.line) } : {}),
            ...(o.startInterval ? { StartInterval: durationNs(o.startInterval, file, ins.line) } : {}),
            ...(o.retries ? { Retries: retries(o.retries, file, ins.line) } : {}),
          };
        }
        commit(`HEALTHCHECK ${goHealthcheck(s.config.Healthcheck)}`, true);
        return;
      }
      case 'ONBUILD':
        s.config.OnBuild = [...(s.config.OnBuild ?? []), ins.trigger];
        return;
      case 'RUN': {
        const script = shebangScript(ins, s.platform);
        const args = runArgs(ins, s.shell, script);
        const network = ins.network ?? 'default';
        if (!['default', 'host', 'none'].includes(network)) {
          throw new DockerfileError(file, ins.line, `unsupported RUN --network=${network}: use default, host or none`);
        }
        const security = ins.security ?? 'sandbox';
        if (security !== 'sandbox' && security !== 'insecure') {
          throw new DockerfileError(file, ins.line, `unsupported RUN --security=${security}: use sandbox or insecure`);
        }
        const mounts = [...(script ? [scriptMount(script, step)] : []), ...(await execMounts(ins.mounts, ex, s, ins.line))];
        const buildArgEnv = [...s.args].filter(([k]) => !envHas(s.config.Env, k)).map(([k, v]) => `${k}=${v}`);
        s.vertex = {
          op: 'exec',
          input: s.vertex,
          args,
          env: [...(s.config.Env ?? []), ...buildArgEnv, ...proxyEnv(opts.buildArgs, s.config.Env)],
          cwd: s.config.WorkingDir || '/',
          user: s.config.User ?? '',
          network: network === 'default' ? opts.network : (network as 'host' | 'none'),
          security,
          platform: s.platform,
          mounts,
          description: step,
        };
        const shown = [...s.args].map(([k, v]) => `${k}=${envValue(s.config.Env, k) ?? v}`);
        const argPrefix = shown.length ? `|${shown.length} ${shown.join(' ')} ` : '';
        commit(`RUN ${argPrefix}${args.join(' ')} # buildkit`, false);
        return;
      }
      case 'COPY':
      case 'ADD': {
        let sources = ins.sources.map(ex);
        const dest = ex(ins.dest);
        let source: Source = opts.context;
        if (ins.heredocs.length > 0) {
          source = { op: 'inline', files: ins.heredocs.map((h) => ({ name: h.name, content: h.expand ? ex(h.content) : h.content })) };
        } else if (ins.kind === 'ADD' && sources.some(isUrl)) {
          source = httpSource(sources, ins.checksum === undefined ? undefined : ex(ins.checksum), file, ins.line);
          sources = [`/${source.filename}`];
        } else if (ins.from !== undefined) {
          source = await fromSource(ex(ins.from), s.platform, ins.line, 'COPY --from');
        }
        if (ins.kind === 'ADD' && ins.checksum !== undefined && source.op !== 'http') {
          throw new DockerfileError(file, ins.line, 'ADD --checksum is only valid for http(s) URLs');
        }
        const chown = ins.chown !== undefined ? ex(ins.chown) : undefined;
        const chmod = ins.chmod !== undefined ? ex(ins.chmod) : undefined;
        const names = ins.heredocs.length > 0 ? ins.heredocs.map((h) => h.name) : sources;
        s.vertex = {
          op: 'copy',
          input: s.vertex,
          source,
          sources: names,
          dest: copyDestination(dest, s.config.WorkingDir),
          chown,
          chmod,
          unpack: ins.kind === 'ADD' && source.op !== 'http',
          link: ins.link,
          parents: ins.parents,
          excludes: ins.excludes.map(ex),
          description: step,
        };
        // As BuildKit's dispatchCopy writes it: no --from, --link or --exclude; heredocs as <<NAME.
        const flags = [ins.parents ? '--parents' : '', chown ? `--chown=${chown}` : '', chmod ? `--chmod=${chmod}` : ''].filter(Boolean);
        const shownSources = ins.heredocs.length > 0 ? ins.heredocs.map((h) => `<<${h.name}`) : sources;
        commit(`${ins.kind} ${[...flags, ...shownSources, dest].join(' ')} # buildkit`, false);
        return;
      }
      case 'FROM':
        throw new DockerfileError(file, ins.line, 'FROM inside a stage');
    }
  };

  /** RUN --mount flags → mounts, `from=` resolved like COPY --from (the context when absent). */
  const execMounts = async (flags: string[], ex: (word: string) => string, s: StageState, line: number): Promise<ExecMount[]> => {
    const mounts: ExecMount[] = [];
    let sshIndex = 0;
    for (const flag of flags) {
      let spec: MountSpec;
      try {
        spec = parseMount(flag, ex, sshIndex, s.config.WorkingDir || '/');
      } catch (err) {
        if (err instanceof MountSyntaxError) throw new DockerfileError(file, line, `invalid --mount=${flag}: ${err.message}`);
        throw err;
      }
      if (spec.type === 'ssh') sshIndex++;
      if (spec.type === 'bind' || spec.type === 'cache') {
        const source = spec.from === undefined ? (spec.type === 'bind' ? opts.context : undefined) : await fromSource(spec.from, s.platform, line, 'RUN --mount from');
        if (spec.type === 'bind') mounts.push({ type: 'bind', target: spec.target, readwrite: spec.readwrite, source: source!, path: spec.source });
        else {
          const { from: _from, source: path, ...cache } = spec;
          mounts.push({ ...cache, source, path });
        }
      } else {
        mounts.push(spec);
      }
    }
    return mounts;
  };

  const target = await buildStage(parsed.stages[targetIndex]!);
  for (const name of opts.buildArgs.keys()) {
    if (!usedArgs.has(name) && !PROXY_ARGS.includes(name) && !platformArgs.has(name)) {
      opts.warn(`build-arg "${name}" was given but not consumed by any ARG in the Dockerfile`);
    }
  }
  const config: Omit<ImageConfig, 'rootfs'> = {
    ...(created ? { created } : {}),
    architecture: target.platform.architecture,
    os: target.platform.os,
    ...(target.platform.variant ? { variant: target.platform.variant } : {}),
    ...(target.author ? { author: target.author } : {}),
    config: target.config,
    history: target.history,
  };
  return { vertex: target.vertex, config, baseDiffIds: target.baseDiffIds };
}

function isUrl(source: string): boolean {
  return /^https?:\/\//i.test(source);
}

/** ADD of a URL: one URL per ADD; the file's name comes from the URL until the server names it. */
function httpSource(sources: string[], checksum: string | undefined, file: string, line: number): HttpSource {
  if (sources.length !== 1) {
    throw new DockerfileError(file, line, 'ADD of a URL together with other sources is not supported', { hint: 'use one ADD per URL' });
  }
  const url = new URL(sources[0]!);
  if (checksum !== undefined && !/^sha256:[a-f0-9]{64}$/.test(checksum)) {
    throw new DockerfileError(file, line, `invalid --checksum=${checksum}: expected sha256:<64 hex digits>`);
  }
  return { op: 'http', url: url.href, checksum, filename: downloadName(url) };
}

/** A COPY destination made absolute against WORKDIR, keeping what says "a directory": a trailing `/`, `.` or `..`. */
function copyDestination(dest: string, workdir: string | undefined): string {
  const abs = posix.isAbsolute(dest) ? dest : posix.join(workdir || '/', dest);
  const isDir = dest.endsWith('/') || dest === '.' || dest === '..' || dest.endsWith('/.') || dest.endsWith('/..');
  return isDir && !abs.endsWith('/') ? `${abs}/` : abs;
}

function expansionEnv(s: StageState): Env {
  const env = new Map<string, string>(s.args);
  for (const e of s.config.Env ?? []) {
    const eq = e.indexOf('=');
    env.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1));
  }
  return env;
}

function expand(word: string, env: Env, file: string, line: number, lexing: ExpandOptions): string {
  try {
    return expandWord(word, env, lexing);
  } catch (err) {
    if (err instanceof ExpansionError) throw new DockerfileError(file, line, `failed to expand "${word}": ${err.message}`);
    throw err;
  }
}

function envValue(env: string[] | undefined, key: string): string | undefined {
  return (env ?? []).find((e) => e.startsWith(`${key}=`))?.slice(key.length + 1);
}

function envHas(env: string[] | undefined, key: string): boolean {
  return envValue(env, key) !== undefined;
}

function proxyEnv(buildArgs: ReadonlyMap<string, string>, env: string[] | undefined): string[] {
  return PROXY_ARGS.filter((k) => buildArgs.has(k) && !envHas(env, k)).map((k) => `${k}=${buildArgs.get(k)}`);
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

function commandArgs(command: CommandForm, shell: string[]): string[] {
  return command.form === 'exec' ? command.args : [...shell, command.command];
}

/** The heredoc a RUN consists of alone (`RUN <<EOF`), if it does. */
function soleHeredoc(ins: InstructionOf<'RUN'>): Heredoc | undefined {
  const only = ins.heredocs.length === 1 && ins.command.form === 'shell' && /^<<-?\s*["']?[A-Za-z_][\w.-]*["']?$/.test(ins.command.command.trim());
  return only ? ins.heredocs[0] : undefined;
}

/** A sole heredoc that starts with `#!` is run as a file, through its interpreter (BuildKit's dispatchRun; not on Windows). */
function shebangScript(ins: InstructionOf<'RUN'>, platform: Platform): Heredoc | undefined {
  const sole = soleHeredoc(ins);
  return sole?.content.startsWith('#!') && platform.os !== 'windows' ? sole : undefined;
}

/**
 * The script as an executable file in HEREDOC_PIPES, read-only: a one-file filesystem mounted for
 * the command only, as BuildKit mounts an llb.Mkfile on scratch. The content is part of the
 * mount's source, so of the step's cache key.
 */
function scriptMount(script: Heredoc, step: StepDescription): ExecMount {
  const files: Vertex = {
    op: 'copy',
    input: { op: 'scratch' },
    source: { op: 'inline', files: [{ name: script.name, content: script.content }] },
    sources: [script.name],
    dest: '/',
    chown: undefined,
    chmod: '0755',
    unpack: false,
    link: false,
    parents: false,
    excludes: [],
    description: { ...step, text: 'preparing inline document' },
  };
  return { type: 'bind', target: HEREDOC_PIPES, source: files, path: '/', readwrite: false };
}

function runArgs(ins: InstructionOf<'RUN'>, shell: string[], script: Heredoc | undefined): string[] {
  if (script) return [...shell, posix.join(HEREDOC_PIPES, script.name)];
  const sole = soleHeredoc(ins);
  if (sole) return [...shell, sole.content];
  if (ins.heredocs.length > 0 && ins.command.form === 'shell') {
    const bodies = ins.heredocs.map((h) => `${h.content}${h.name}`).join('\n');
    return [...shell, `${ins.command.command}\n${bodies}`];
  }
  return commandArgs(ins.command, shell);
}

/** Go's %q of a []string, as BuildKit writes CMD and ENTRYPOINT into history. */
function goQuoteList(list: string[]): string {
  return `[${list.map((s) => JSON.stringify(s)).join(' ')}]`;
}

function normalizePort(port: string, file: string, line: number): string {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(port);
  if (!m) throw new DockerfileError(file, line, `invalid port "${port}" in EXPOSE: expected PORT[/PROTOCOL], e.g. 8080/tcp`);
  return `${m[1]}${m[2] ? `-${m[2]}` : ''}/${(m[3] ?? 'tcp').toLowerCase()}`;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Parses a Go duration (e.g. "1m30s") to nanoseconds. */
function durationNs(value: string, file: string, line: number): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    matched += m[0].length;
  }
  if (matched !== value.length || value === '') throw new DockerfileError(file, line, `invalid duration "${value}": expected e.g. 30s, 1m30s`);
  return Math.round(total);
}

function retries(value: string, file: string, line: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new DockerfileError(file, line, `invalid --retries "${value}": expected a whole number`);
  return n;
}

/** Sets an Env entry, replacing an existing one in place as BuildKit does. */
function setEnv(env: string[], key: string, value: string): string[] {
  const entry = `${key}=${value}`;
  const at = env.findIndex((e) => e.startsWith(`${key}=`));
  return at < 0 ? [...env, entry] : env.map((e, i) => (i === at ? entry : e));
}

/** Go's time.Duration String(): 1h2m3.5s, 1m0s, 30s, 500ms, 0s. */
function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  if (ns < 1e9) {
    const [unit, size] = ns < 1e3 ? ['ns', 1] : ns < 1e6 ? ['µs', 1e3] : ['ms', 1e6];
    return `${Number((ns / size).toFixed(9))}${unit}`;
  }
  const hours = Math.floor(ns / 3600e9);
  const minutes = Math.floor((ns % 3600e9) / 60e9);
  const seconds = Number(((ns % 60e9) / 1e9).toFixed(9));
  return hours ? `${hours}h${minutes}m${seconds}s` : minutes ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/** Go's %q of an int: a quoted rune, e.g. '\x04' or 'A'. */
function goQuoteRune(n: number): string {
  const escapes: Record<number, string> = { 7: '\\a', 8: '\\b', 9: '\\t', 10: '\\n', 11: '\\v', 12: '\\f', 13: '\\r', 39: "\\'", 92: '\\\\' };
  if (escapes[n]) return `'${escapes[n]}'`;
  if (n >= 32 && n < 127) return `'${String.fromCharCode(n)}'`;
  return n < 256 ? `'\\x${n.toString(16).padStart(2, '0')}'` : `'\\u${n.toString(16).padStart(4, '0')}'`;
}

/** HEALTHCHECK history as BuildKit writes it: Go's %q of its HealthcheckConfig struct. */
function goHealthcheck(h: HealthConfig | undefined): string {
  const durations = [h?.Interval, h?.Timeout, h?.StartPeriod, h?.StartInterval].map((d) => JSON.stringify(goDuration(d ?? 0)));
  return `&{${goQuoteList(h?.Test ?? [])} ${durations.join(' ')} ${goQuoteRune(h?.Retries ?? 0)}}`;
}
