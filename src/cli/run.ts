import { constants } from 'node:os';

import { Command } from 'commander';

import { InvalidInputError } from '../errors.js';
import { parseMemory, parseNetworkMode, parseUlimit } from '../sandbox/flags.js';
import type { SandboxLimits } from '../sandbox/index.js';
import { ContainerSetupError } from '../sandbox/report.js';
import { action, lazy, collect, reportError } from './action.js';
import { addRegistryFlags, registryOptions, type RegistryFlags } from './registry-flags.js';

const run = lazy(() => import('../api/run.js'), 'run');

/** The sandbox flags `tcbuild run` and `tcbuild build` share (the latter applies them to each RUN). */
export interface SandboxLimitFlags {
  memory?: string;
  cpus?: string;
  pidsLimit?: string;
  addHost?: string[];
  ulimit?: string[];
}

export function addSandboxLimitFlags(cmd: Command): Command {
  return cmd
    .option('-m, --memory <bytes>', 'memory limit, e.g. 512m or 2g')
    .option('--cpus <n>', 'CPUs the container may use, e.g. 1.5')
    .option('--pids-limit <n>', 'most processes at once (default 4096; 0: unlimited)')
    .option('--add-host <name:ip>', 'add a line to /etc/hosts (repeatable)', collect)
    .option('--ulimit <name=soft[:hard]>', 'a resource limit, e.g. nofile=1024:4096 (repeatable)', collect);
}

export function sandboxLimits(flags: SandboxLimitFlags): SandboxLimits {
  const number = (flag: string, text: string) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0)
      throw new InvalidInputError(`${flag} ${text}: expected a non-negative number`);
    return value;
  };
  return {
    ...(flags.memory !== undefined ? { memory: parseMemory(flags.memory) } : {}),
    ...(flags.cpus !== undefined ? { cpus: number('--cpus', flags.cpus) } : {}),
    ...(flags.pidsLimit !== undefined ? { pidsLimit: Math.floor(number('--pids-limit', flags.pidsLimit)) } : {}),
    ...(flags.addHost?.length ? { addHosts: flags.addHost } : {}),
    ...(flags.ulimit?.length ? { ulimits: flags.ulimit.map(parseUlimit) } : {}),
  };
}

interface RunFlags extends RegistryFlags, SandboxLimitFlags {
  rm?: boolean;
  env?: string[];
  workdir?: string;
  user?: string;
  entrypoint?: string;
  network: string;
  privileged?: boolean;
  hostname?: string;
  volume?: string[];
  interactive?: boolean;
  tty?: boolean;
  platform?: string;
  pull?: boolean;
}

export function runCommand(): Command {
  const cmd = new Command('run')
    .description(
      'run a command in a new container of an image (from the local store, pulled when missing); exits with the ' +
        "command's code",
    )
    .argument('<image>', 'the image, e.g. busybox or localhost:5000/app:1')
    .argument('[command...]', "the command and its arguments (default: the image's CMD)")
    .passThroughOptions()
    .option('--rm', 'remove the container when it exits (always done: containers are not kept)')
    .option('-e, --env <key=value>', 'set an environment variable (repeatable; KEY alone takes it from here)', collect)
    .option('-w, --workdir <dir>', 'the working directory inside the container')
    .option('-u, --user <user[:group]>', 'the user to run as (name or uid)')
    .option('--entrypoint <command>', "replace the image's ENTRYPOINT ('' clears it)")
    .option(
      '--network <mode>',
      "default (a private network: outbound access, none of the host's services), host or none",
      'default',
    )
    .option('--privileged', 'every capability, no seccomp filter, no masked paths (for a command you trust)')
    .option('--hostname <name>', "the container's host name")
    .option('-v, --volume <host:container[:ro]>', 'bind-mount a host path (repeatable)', collect)
    .option('-i, --interactive', "forward stdin to the command (its end is the command's EOF)")
    .option('-t, --tty', 'give the command a pseudo-terminal (with -i, this terminal is put in raw mode meanwhile)')
    .option('--platform <os/arch>', 'the platform of the image to run')
    .option('--pull', 'pull the image even when it is stored');
  addSandboxLimitFlags(cmd);
  addRegistryFlags(cmd, collect);
  return cmd.action(
    action(async (image: string, command: string[], flags: RunFlags) => {
      const result = await run(image, {
        args: command,
        ...(flags.entrypoint !== undefined ? { entrypoint: flags.entrypoint === '' ? [] : [flags.entrypoint] } : {}),
        ...(flags.env ? { env: flags.env } : {}),
        ...(flags.workdir ? { workdir: flags.workdir } : {}),
        ...(flags.user !== undefined ? { user: flags.user } : {}),
        network: parseNetworkMode(flags.network),
        ...(flags.privileged ? { privileged: true } : {}),
        ...(flags.hostname ? { hostname: flags.hostname } : {}),
        ...(flags.volume ? { volumes: flags.volume } : {}),
        ...(flags.platform ? { platform: flags.platform } : {}),
        pull: flags.pull ?? false,
        registry: registryOptions(flags),
        ...sandboxLimits(flags),
        ...(flags.interactive ? { stdin: process.stdin } : {}),
        ...(flags.tty ? { tty: true } : {}),
        stdout: process.stdout,
        stderr: process.stderr,
      }).catch(asCommandExit);
      if (result === undefined) return;
      if (result.oomKilled) process.stderr.write('tcbuild: the container was killed: out of memory\n');
      process.exitCode = result.exitCode ?? 128 + signalNumber(result.signal);
    }),
  );
}

/** As docker run: a command that cannot be found exits 127, one that cannot be run 126. */
function asCommandExit(err: unknown): undefined {
  if (!(err instanceof ContainerSetupError) || !err.step.startsWith('exec ')) throw err;
  reportError(err);
  process.exitCode = err.code === 'ENOENT' ? 127 : 126;
  return undefined;
}

/** The shell's convention: a command killed by signal N exits with 128+N. */
function signalNumber(name: string | null): number {
  return name ? (constants.signals[name as keyof typeof constants.signals] ?? 0) : 0;
}
