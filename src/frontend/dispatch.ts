import { posix } from 'node:path';
import type { Conversion, StageState } from './conversion.js';
import { dispatchCopy } from './dispatch-copy.js';
import { dispatchRun } from './dispatch-run.js';
import { checkSecretName, checkUsedOnce } from './checks/instruction-checks.js';
import { RULES } from './checks/rules.js';
import { DockerfileError } from './errors.js';
import { goHealthcheck, goQuoteList } from './go-format.js';
import type { Instruction, InstructionOf } from './instructions.js';
import { commandArgs } from './run-command.js';

/** Applies one instruction to a stage: its graph, image config and history (BuildKit's dispatch). */
export async function dispatch(c: Conversion, s: StageState, ins: Instruction): Promise<void> {
  switch (ins.kind) {
    case 'ENV':
      return dispatchEnv(c, s, ins);
    case 'ARG':
      return dispatchArg(c, s, ins);
    case 'LABEL':
      return dispatchLabel(c, s, ins);
    case 'MAINTAINER':
      return dispatchMaintainer(c, s, ins);
    case 'EXPOSE':
      return dispatchExpose(c, s, ins);
    case 'USER':
      return dispatchUser(c, s, ins);
    case 'WORKDIR':
      return dispatchWorkdir(c, s, ins);
    case 'VOLUME':
      return dispatchVolume(c, s, ins);
    case 'STOPSIGNAL':
      return dispatchStopSignal(c, s, ins);
    case 'SHELL':
      return dispatchShell(c, s, ins);
    case 'CMD':
      return dispatchCmd(c, s, ins);
    case 'ENTRYPOINT':
      return dispatchEntrypoint(c, s, ins);
    case 'HEALTHCHECK':
      return dispatchHealthcheck(c, s, ins);
    case 'ONBUILD':
      return dispatchOnbuild(s, ins);
    case 'RUN':
      return dispatchRun(c, s, ins);
    case 'COPY':
    case 'ADD':
      return dispatchCopy(c, s, ins);
    case 'FROM':
      throw new DockerfileError(c.file, ins.line, 'FROM inside a stage');
  }
}

function dispatchEnv(c: Conversion, s: StageState, ins: InstructionOf<'ENV' | 'LABEL'>): void {
  const ex = c.expanderAt(s, ins.line);
  const set = ins.pairs.map(({ key, value }) => [ex(key), ex(value)] as const);
  if (ins.legacyForm) c.checks.report(RULES.LegacyKeyValueFormat, ins.line, 'ENV');
  for (const [key] of set) checkSecretName(c.checks, 'ENV', key, ins.line);
  for (const [key, value] of set) s.config.Env = setEnv(s.config.Env ?? [], key, value);
  c.commit(s, `ENV ${set.map(([k, v]) => `${k}=${v}`).join(' ')}`, true);
}

function dispatchArg(c: Conversion, s: StageState, ins: InstructionOf<'ARG'>): void {
  const { buildArgs } = c.opts;
  const commitStrs: string[] = [];
  for (const { name, defaultValue } of ins.args) {
    checkSecretName(c.checks, 'ARG', name, ins.line);
    let value = buildArgs.get(name);
    if (value !== undefined) c.usedArgs.add(name);
    value ??= defaultValue !== undefined ? c.expanderAt(s, ins.line)(defaultValue) : c.globalArgs.get(name);
    // Declared without a value, an ARG keeps the value it already has (BuildKit adds values to the state's env only).
    if (value !== undefined || !s.args.has(name)) s.args.set(name, value);
    s.checked.declaredArgs.add(name);
    // BuildKit records the value an ARG takes, except a predefined platform ARG's.
    const implicit = defaultValue === undefined && !buildArgs.has(name) && !c.declaredGlobals.has(name);
    commitStrs.push(value === undefined || implicit ? name : `${name}=${value}`);
  }
  c.commit(s, `ARG ${commitStrs.join(' ')}`, true);
}

function dispatchLabel(c: Conversion, s: StageState, ins: InstructionOf<'ENV' | 'LABEL'>): void {
  const ex = c.expanderAt(s, ins.line);
  const set = ins.pairs.map(({ key, value }) => [ex(key), ex(value)] as const);
  if (ins.legacyForm) c.checks.report(RULES.LegacyKeyValueFormat, ins.line, 'LABEL');
  s.config.Labels = { ...(s.config.Labels ?? {}) };
  for (const [key, value] of set) s.config.Labels[key] = value;
  c.commit(s, `LABEL ${set.map(([k, v]) => `${k}=${v}`).join(' ')}`, true);
}

function dispatchMaintainer(c: Conversion, s: StageState, ins: InstructionOf<'MAINTAINER'>): void {
  s.author = ins.name;
  c.commit(s, `MAINTAINER ${ins.name}`, true);
}

function dispatchExpose(c: Conversion, s: StageState, ins: InstructionOf<'EXPOSE'>): void {
  const ex = c.expanderAt(s, ins.line, { quiet: true });
  const ports = ins.ports.flatMap((p) => ex(p).split(/\s+/).filter(Boolean)).map((p) => exposedPort(c, p, ins.line));
  s.config.ExposedPorts = { ...(s.config.ExposedPorts ?? {}) };
  for (const port of ports) s.config.ExposedPorts[port] = {};
  c.commit(
    s,
    `EXPOSE map[${[...new Set(ports)]
      .sort()
      .map((p) => `${p}:{}`)
      .join(' ')}]`,
    true,
  );
}

function dispatchUser(c: Conversion, s: StageState, ins: InstructionOf<'USER'>): void {
  const user = c.expanderAt(s, ins.line)(ins.user);
  s.config.User = user;
  c.commit(s, `USER ${user}`, true);
}

function dispatchWorkdir(c: Conversion, s: StageState, ins: InstructionOf<'WORKDIR'>): void {
  const path = c.expanderAt(s, ins.line)(ins.path);
  // Judged once a stage: fixing the first relative WORKDIR fixes those after it.
  if (!s.checked.workdirSet && !posix.isAbsolute(path)) c.checks.report(RULES.WorkdirRelativePath, ins.line, path);
  s.checked.workdirSet = true;
  const dir = posix.resolve(s.config.WorkingDir || '/', path);
  s.config.WorkingDir = dir;
  if (dir !== '/') {
    s.vertex = { op: 'mkdir', input: s.vertex, path: dir, user: s.config.User ?? '', description: c.step(s, ins) };
  }
  c.commit(s, `WORKDIR ${dir}`, dir === '/');
}

function dispatchVolume(c: Conversion, s: StageState, ins: InstructionOf<'VOLUME'>): void {
  const paths = ins.paths.map(c.expanderAt(s, ins.line));
  s.config.Volumes = { ...(s.config.Volumes ?? {}) };
  for (const p of paths) s.config.Volumes[p] = {};
  c.commit(s, `VOLUME [${paths.join(' ')}]`, true);
}

function dispatchStopSignal(c: Conversion, s: StageState, ins: InstructionOf<'STOPSIGNAL'>): void {
  const signal = c.expanderAt(s, ins.line)(ins.signal);
  s.config.StopSignal = signal;
  c.commit(s, `STOPSIGNAL ${signal}`, true);
}

function dispatchShell(c: Conversion, s: StageState, ins: InstructionOf<'SHELL'>): void {
  s.shell = ins.args;
  s.config.Shell = ins.args;
  c.commit(s, `SHELL [${ins.args.join(' ')}]`, true);
}

function dispatchCmd(c: Conversion, s: StageState, ins: InstructionOf<'CMD' | 'ENTRYPOINT'>): void {
  checkCommandForm(c, s, ins);
  s.config.Cmd = commandArgs(ins.command, s.shell);
  s.config.ArgsEscaped = true;
  s.cmdSet = true;
  c.commit(s, `CMD ${goQuoteList(s.config.Cmd)}`, true);
}

function dispatchEntrypoint(c: Conversion, s: StageState, ins: InstructionOf<'CMD' | 'ENTRYPOINT'>): void {
  checkCommandForm(c, s, ins);
  s.config.Entrypoint = commandArgs(ins.command, s.shell);
  if (!s.cmdSet) s.config.Cmd = null;
  c.commit(s, `ENTRYPOINT ${goQuoteList(s.config.Entrypoint)}`, true);
}

function dispatchHealthcheck(c: Conversion, s: StageState, ins: InstructionOf<'HEALTHCHECK'>): void {
  checkUsedOnce(c.checks, s.checked, ins);
  if (ins.test?.[0] === 'NONE') s.config.Healthcheck = { Test: ['NONE'] };
  else {
    const o = ins.options;
    const at = (value: string) => durationNs(value, c.file, ins.line);
    s.config.Healthcheck = {
      Test: ins.test ?? [],
      ...(o.interval ? { Interval: at(o.interval) } : {}),
      ...(o.timeout ? { Timeout: at(o.timeout) } : {}),
      ...(o.startPeriod ? { StartPeriod: at(o.startPeriod) } : {}),
      ...(o.startInterval ? { StartInterval: at(o.startInterval) } : {}),
      ...(o.retries ? { Retries: retries(o.retries, c.file, ins.line) } : {}),
    };
  }
  c.commit(s, `HEALTHCHECK ${goHealthcheck(s.config.Healthcheck)}`, true);
}

function dispatchOnbuild(s: StageState, ins: InstructionOf<'ONBUILD'>): void {
  s.config.OnBuild = [...(s.config.OnBuild ?? []), ins.trigger];
}

/** CMD and ENTRYPOINT: once a stage, and in the exec form unless a SHELL says which shell runs them. */
function checkCommandForm(c: Conversion, s: StageState, ins: InstructionOf<'CMD' | 'ENTRYPOINT'>): void {
  checkUsedOnce(c.checks, s.checked, ins);
  if (ins.command.form === 'shell' && !s.config.Shell?.length) {
    c.checks.report(RULES.JSONArgsRecommended, ins.line, ins.kind);
  }
}

/** Sets an Env entry, replacing an existing one in place as BuildKit does. */
function setEnv(env: string[], key: string, value: string): string[] {
  const entry = `${key}=${value}`;
  const at = env.findIndex((e) => e.startsWith(`${key}=`));
  return at < 0 ? [...env, entry] : env.map((e, i) => (i === at ? entry : e));
}

/**
 * An EXPOSE word as `PORT[-END]/proto`. As BuildKit, an `[IP:][HOST_PORT:]` prefix is read and
 * dropped with an ExposeInvalidFormat warning, and an upper-case protocol is lowered with ExposeProtoCasing.
 */
function exposedPort(c: Conversion, word: string, line: number): string {
  const parts = word.split(':');
  const containerPort = parts.at(-1)!;
  const hostAddress = parts.slice(0, -1).join(':');
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(containerPort);
  if (!m) {
    const expected = 'expected PORT[/PROTOCOL], e.g. 8080/tcp';
    throw new DockerfileError(c.file, line, `invalid port "${word}" in EXPOSE: ${expected}`);
  }
  const proto = m[3] ?? 'tcp';
  if (proto !== proto.toLowerCase()) c.checks.report(RULES.ExposeProtoCasing, line, word);
  if (hostAddress.replaceAll(':', '') !== '') c.checks.report(RULES.ExposeInvalidFormat, line, word);
  return `${m[1]}${m[2] ? `-${m[2]}` : ''}/${proto.toLowerCase()}`;
}

const UNIT_NS: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** Parses a Go duration (e.g. "1m30s") to nanoseconds. */
function durationNs(value: string, file: string, line: number): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * UNIT_NS[m[2]!]!;
    matched += m[0].length;
  }
  if (matched !== value.length || value === '') {
    throw new DockerfileError(file, line, `invalid duration "${value}": expected e.g. 30s, 1m30s`);
  }
  return Math.round(total);
}

function retries(value: string, file: string, line: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) {
    throw new DockerfileError(file, line, `invalid --retries "${value}": expected a whole number`);
  }
  return n;
}
