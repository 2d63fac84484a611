import { fork } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { ChildMessage, ChildRequest } from './child.js';
import { contentName, describe, type EngineStats } from './engine.js';
import { isExpectedError, REPO, type FuzzTarget } from './target.js';

const SMOKE_RUNS = 2000;

const USAGE = `usage: npm run fuzz -- [--smoke] [--time SECONDS] [--runs N] [--seed N] [--out DIR]
                     [--timeout SECONDS] [--rss-limit MIB] [--replay FILE] [TARGET...]

Fuzzes each TARGET (a name from fuzz/targets/, or the path of a compiled target module; all
targets when none is named) in its own process, one after another.
  --smoke          a fixed, seeded number of runs per target (what npm test runs)
  --time SECONDS   how long to fuzz each target (default 60; not with --smoke)
  --runs N         stop a target after N inputs (--smoke: ${SMOKE_RUNS})
  --seed N         seed of the mutator (default: random; --smoke: 1)
  --out DIR        corpus and findings (default .fuzz/ in the repository)
  --timeout S      an input that runs longer is a hang (default 30)
  --rss-limit MIB  a target process using more memory is a finding (default 2048)
  --replay FILE    run FILE through one TARGET once, in this process, and print the outcome
  --list           print the targets`;

const TARGETS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'targets');
const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'child.js');

interface RunnerOptions {
  runs?: number;
  seconds?: number;
  seed: number;
  out: string;
  timeoutSeconds: number;
  rssLimitMiB: number;
  keepCorpus: boolean;
}

interface TargetResult {
  stats: EngineStats;
  seconds: number;
  finding?: { kind: string; error: string; file: string };
}

function targetNames(): string[] {
  return readdirSync(TARGETS_DIR)
    .filter((name) => name.endsWith('.js'))
    .map((name) => name.slice(0, -'.js'.length))
    .sort();
}

function moduleOf(target: string): string {
  if (target.endsWith('.js')) return resolve(target);
  const module = join(TARGETS_DIR, `${target}.js`);
  if (!existsSync(module))
    throw new UsageError(`no fuzz target "${target}": the targets are ${targetNames().join(', ')}`);
  return module;
}

class UsageError extends Error {}

/** Fuzzes one target in a child process, watching it from outside for hangs, crashes and memory. */
function runTarget(name: string, module: string, options: RunnerOptions): Promise<TargetResult> {
  const dir = join(options.out, name);
  const scratch = mkdtempSync(join(tmpdir(), 'tcbuild-fuzz-'));
  const currentFile = join(scratch, 'current');
  const request: ChildRequest = {
    module,
    seed: options.seed,
    currentFile,
    ...(options.runs !== undefined ? { runs: options.runs } : {}),
    ...(options.seconds !== undefined ? { seconds: options.seconds } : {}),
    ...(options.keepCorpus ? { corpusDir: join(dir, 'corpus') } : {}),
  };
  const started = Date.now();
  const child = fork(CHILD, [], {
    execArgv: ['--max-old-space-size=4096'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let stats: EngineStats = { runs: 0, corpus: 0, features: 0 };
  let finding: TargetResult['finding'];
  let lastHeard = Date.now();

  const record = (kind: string, error: string, input: Buffer) => {
    mkdirSync(join(dir, 'findings'), { recursive: true });
    const file = join(dir, 'findings', `${kind}-${contentName(input)}`);
    writeFileSync(file, input);
    writeFileSync(`${file}.txt`, `${error}\n`);
    finding ??= { kind, error, file };
  };
  const current = () => (existsSync(currentFile) ? readFileSync(currentFile) : Buffer.alloc(0));

  return new Promise((resolvePromise, reject) => {
    const watch = setInterval(() => {
      if (finding) return;
      if (Date.now() - lastHeard > options.timeoutSeconds * 1000) {
        record('hang', `no input finished in ${options.timeoutSeconds} s`, current());
        child.kill('SIGKILL');
        return;
      }
      const rss = rssMiB(child.pid!);
      if (rss > options.rssLimitMiB) {
        record('memory', `the target process used ${rss} MiB, more than ${options.rssLimitMiB} MiB`, current());
        child.kill('SIGKILL');
      }
    }, 250);
    child.on('message', (message: ChildMessage) => {
      lastHeard = Date.now();
      stats = message.stats;
      if (message.kind === 'done' && message.finding)
        record('crash', message.finding.error, Buffer.from(message.finding.input, 'base64'));
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(watch);
      if (code !== 0 && !finding)
        record('crash', `the target process died (${signal ?? `exit code ${code}`})`, current());
      rmSync(scratch, { recursive: true, force: true });
      resolvePromise({ stats, seconds: (Date.now() - started) / 1000, ...(finding ? { finding } : {}) });
    });
    child.send(request);
  });
}

function rssMiB(pid: number): number {
  try {
    const kib = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kib === undefined ? 0 : Math.round(Number(kib) / 1024);
  } catch {
    return 0; // exited meanwhile
  }
}

async function replay(file: string, module: string): Promise<boolean> {
  const { target } = (await import(pathToFileURL(module).href)) as { target: FuzzTarget };
  try {
    await target.fuzz(readFileSync(file));
    console.log(`${file}: no error`);
    return true;
  } catch (err) {
    const expected = isExpectedError(target, err);
    console.log(`${file}: ${expected ? 'refused (expected)' : 'FINDING'}: ${describe(err)}`);
    return expected;
  }
}

function integer(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag} takes a whole number, not "${text}"`);
  return n;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      smoke: { type: 'boolean' },
      time: { type: 'string' },
      runs: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      timeout: { type: 'string' },
      'rss-limit': { type: 'string' },
      replay: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (values.list) {
    for (const name of targetNames()) {
      const { target } = (await import(pathToFileURL(moduleOf(name)).href)) as { target: FuzzTarget };
      console.log(`${name.padEnd(16)} ${target.description}`);
    }
    return 0;
  }
  const names = positionals.length > 0 ? positionals : targetNames();
  if (values.replay !== undefined) {
    if (names.length !== 1) throw new UsageError('--replay takes exactly one TARGET');
    return (await replay(values.replay, moduleOf(names[0]!))) ? 0 : 1;
  }
  if (values.smoke && values.time !== undefined)
    throw new UsageError('--smoke runs a fixed number of inputs: it takes no --time');
  const runs = integer(values.runs, '--runs') ?? (values.smoke ? SMOKE_RUNS : undefined);
  const options: RunnerOptions = {
    ...(runs !== undefined ? { runs } : {}),
    ...(values.smoke ? {} : { seconds: integer(values.time, '--time') ?? 60 }),
    seed: integer(values.seed, '--seed') ?? (values.smoke ? 1 : Math.floor(Math.random() * 2 ** 32)),
    out: resolve(values.out ?? join(REPO, '.fuzz')),
    timeoutSeconds: integer(values.timeout, '--timeout') ?? 30,
    rssLimitMiB: integer(values['rss-limit'], '--rss-limit') ?? 2048,
    keepCorpus: !values.smoke,
  };
  const modules = names.map((name) => [name, basename(name, '.js'), moduleOf(name)] as const);
  console.log(
    `fuzzing ${modules.length} target(s), seed ${options.seed}, ${values.smoke ? `${runs} runs each` : `${options.seconds} s each`}`,
  );
  let failed = 0;
  for (const [given, name, module] of modules) {
    const { stats, seconds, finding } = await runTarget(name, module, options);
    const line = `${name.padEnd(16)} ${String(stats.runs).padStart(8)} runs ${seconds.toFixed(1).padStart(7)} s ${String(stats.features).padStart(6)} features  corpus ${stats.corpus}`;
    if (!finding) {
      console.log(`${line}  ok`);
      continue;
    }
    failed++;
    console.log(
      `${line}  FINDING (${finding.kind})\n${indent(finding.error)}\n  input: ${finding.file}\n  replay: npm run fuzz -- --replay ${finding.file} ${given}`,
    );
  }
  console.log(failed === 0 ? 'no findings' : `${failed} target(s) with findings`);
  return failed === 0 ? 0 : 1;
}

function indent(text: string): string {
  return text
    .split('\n')
    .slice(0, 12)
    .map((l) => `  ${l}`)
    .join('\n');
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    console.error(
      err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
        ? `${(err as Error).message}\n\n${USAGE}`
        : describe(err),
    );
    process.exitCode = 2;
  },
);
