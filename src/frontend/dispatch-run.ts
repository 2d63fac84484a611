import type { ExecMount } from '../graph/vertex.js';
import { argValues, type Conversion, type StageState } from './conversion.js';
import { DockerfileError } from './errors.js';
import type { InstructionOf } from './instructions.js';
import { runArgs, scriptMount, shebangScript } from './run-command.js';
import { MountSyntaxError, parseMount, type MountSpec } from './run-mount.js';

export const PROXY_ARGS = [
  'HTTP_PROXY',
  'http_proxy',
  'HTTPS_PROXY',
  'https_proxy',
  'FTP_PROXY',
  'ftp_proxy',
  'NO_PROXY',
  'no_proxy',
  'ALL_PROXY',
  'all_proxy',
];

export async function dispatchRun(c: Conversion, s: StageState, ins: InstructionOf<'RUN'>): Promise<void> {
  const script = shebangScript(ins, s.platform);
  const args = runArgs(ins, s.shell, script);
  const network = ins.network ?? 'default';
  if (!['default', 'host', 'none'].includes(network)) {
    throw new DockerfileError(c.file, ins.line, `unsupported RUN --network=${network}: use default, host or none`);
  }
  const security = ins.security ?? 'sandbox';
  if (security !== 'sandbox' && security !== 'insecure') {
    throw new DockerfileError(c.file, ins.line, `unsupported RUN --security=${security}: use sandbox or insecure`);
  }
  const step = c.step(s, ins);
  const mounts = [...(script ? [scriptMount(script, step)] : []), ...(await execMounts(c, s, ins))];
  const values = argValues(s);
  const buildArgEnv = [...values].filter(([k]) => !envHas(s.config.Env, k)).map(([k, v]) => `${k}=${v}`);
  s.vertex = {
    op: 'exec',
    input: s.vertex,
    args,
    env: [...(s.config.Env ?? []), ...buildArgEnv, ...proxyEnv(c.opts.buildArgs, s.config.Env)],
    cwd: s.config.WorkingDir || '/',
    user: s.config.User ?? '',
    network: network === 'default' ? c.opts.network : (network as 'host' | 'none'),
    security,
    platform: s.platform,
    mounts,
    description: step,
  };
  const shown = [...s.args.keys()].map((k) => `${k}=${envValue(s.config.Env, k) ?? values.get(k) ?? ''}`);
  const argPrefix = shown.length ? `|${shown.length} ${shown.join(' ')} ` : '';
  c.commit(s, `RUN ${argPrefix}${args.join(' ')} # buildkit`, false);
}

/** RUN --mount flags → mounts, `from=` resolved like COPY --from (the context when absent). */
async function execMounts(c: Conversion, s: StageState, ins: InstructionOf<'RUN'>): Promise<ExecMount[]> {
  const ex = c.expanderAt(s, ins.line);
  const mounts: ExecMount[] = [];
  let sshIndex = 0;
  for (const flag of ins.mounts) {
    let spec: MountSpec;
    try {
      spec = parseMount(flag, ex, sshIndex, s.config.WorkingDir || '/');
    } catch (err) {
      if (!(err instanceof MountSyntaxError)) throw err;
      throw new DockerfileError(c.file, ins.line, `invalid --mount=${flag}: ${err.message}`);
    }
    if (spec.type === 'ssh') sshIndex++;
    if (spec.type === 'bind' || spec.type === 'cache') {
      const source =
        spec.from === undefined
          ? spec.type === 'bind'
            ? c.opts.context
            : undefined
          : await c.fromSource(spec.from, s.platform, ins.line, 'RUN --mount from');
      if (spec.type === 'bind') {
        const { target, readwrite, source: path } = spec;
        mounts.push({ type: 'bind', target, readwrite, source: source!, path });
      } else {
        const { from: _from, source: path, ...cache } = spec;
        mounts.push({ ...cache, source, path });
      }
    } else {
      mounts.push(spec);
    }
  }
  return mounts;
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
