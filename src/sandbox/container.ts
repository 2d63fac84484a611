import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { isAbsolute } from 'node:path';

import { Cgroup } from './cgroup/cgroup.js';
import { ConsoleRelay } from './console.js';
import { DEFAULT_PIDS_LIMIT } from './docker-defaults.js';
import { trackSandbox } from './lifecycle.js';
import { loadNative, type NativeContainer, type NativeSandbox } from './native.js';
import { feedStdin, forward, pipeReader, readAll } from './relay.js';
import { ContainerSetupError, decodeReport, setupError } from './report.js';
import { PRIVATE_NETWORK_NAMESERVER, PrivateNetwork } from './private-network.js';
import { etcFilesFor, newRunName } from './run-state.js';
import { buildSpec } from './spec.js';
import type { ContainerRequest, ContainerResult } from './types.js';

/**
 * Runs one process in a new container (mount, PID, UTS, IPC and cgroup
 * namespaces, plus network unless 'host'; its own cgroup; Docker's capabilities,
 * seccomp profile, masked paths) and resolves with how it exited.
 * Rejects with a ContainerSetupError if the container could not be set up or
 * the executable could not be run.
 */
export function runContainer(req: ContainerRequest): Promise<ContainerResult> {
  validate(req);
  const killer: Killer = {};
  const done = run(req, killer);
  trackSandbox({ kill: () => killer.kill?.(), done });
  return done;
}

/** Set once the container exists: kills all of it. */
interface Killer {
  kill?: () => void;
}

async function run(req: ContainerRequest, killer: Killer): Promise<ContainerResult> {
  const native = loadNative();
  const name = newRunName();
  let cgroup: Cgroup | null = null;
  let network: PrivateNetwork | undefined;
  try {
    network = req.network === 'private' ? await PrivateNetwork.create() : undefined;
    const etc = etcFilesFor(req.hostname, req.addHosts ?? [], network ? PRIVATE_NETWORK_NAMESERVER : undefined);
    cgroup = Cgroup.create(name, {
      pidsLimit: req.pidsLimit ?? DEFAULT_PIDS_LIMIT,
      ...(req.memory !== undefined ? { memory: req.memory } : {}),
      ...(req.cpus !== undefined ? { cpus: req.cpus } : {}),
    });
    const container = native.spawn(buildSpec(req, etc, cgroup ?? { procs: [], limitsDevices: false }, network?.fd));
    return await supervise(native, container, req, cgroup, killer);
  } finally {
    void network?.close();
    await cgroup?.remove();
  }
}

function validate(req: ContainerRequest): void {
  if (process.getuid?.() !== 0) {
    throw new ContainerSetupError(
      'running a container needs root: rootless sandboxes (a user namespace mapped through newuidmap/newgidmap and ' +
        '/etc/subuid) are not implemented yet; run tcbuild as root, e.g. with sudo',
      'check privileges',
      'EPERM',
      1,
    );
  }
  if (req.args.length === 0) throw new TypeError('runContainer: args must not be empty');
  if (!req.cwd.startsWith('/')) throw new TypeError(`runContainer: cwd must be an absolute path, got "${req.cwd}"`);
  if (!isAbsolute(req.mountpoint))
    throw new TypeError(`runContainer: mountpoint must be absolute, got "${req.mountpoint}"`);
  if (req.rootfs.length === 0) throw new TypeError('runContainer: rootfs must have at least one mount');
}

async function supervise(
  native: NativeSandbox,
  container: NativeContainer,
  req: ContainerRequest,
  cgroup: Cgroup | null,
  killer: Killer,
): Promise<ContainerResult> {
  const exited = new Promise<{ exitCode: number | null; signal: number | null }>((resolve) =>
    native.waitForExit(container.pidfd, (exitCode, signal) => resolve({ exitCode, signal })),
  );
  const kill = () => {
    cgroup?.kill();
    native.sendSignal(container.pidfd, constants.signals.SIGKILL);
  };
  killer.kill = kill;
  let timedOut = false;
  const timer = req.timeoutMs === undefined ? undefined : setTimeout(() => ((timedOut = true), kill()), req.timeoutMs);
  req.signal?.addEventListener('abort', kill, { once: true });
  if (req.signal?.aborted) kill();
  const stopStdin = container.stdin !== null && req.stdin ? feedStdin(container.stdin, req.stdin) : undefined;
  const terminal = container.console === null ? undefined : new ConsoleRelay(native, container.console, req);
  try {
    const [report] = await Promise.all([
      readAll(pipeReader(container.report)),
      forward(pipeReader(container.stdout), req.stdout),
      forward(pipeReader(container.stderr), req.stderr),
      terminal?.output,
    ]).catch(async (err: unknown) => {
      kill();
      await exited;
      throw err;
    });
    const status = await exited;
    const records = decodeReport(report);
    const failure = records.find((r) => r.kind === 'setup-failed');
    if (failure) throw setupError(failure, req.args);
    const workload = records.find((r) => r.kind === 'workload-exited') ?? status;
    if (workload.exitCode === null && workload.signal === null) throw new Error('lost track of the container process');
    return {
      exitCode: workload.exitCode,
      signal: workload.signal === null ? null : signalName(workload.signal),
      ...(cgroup?.oomKilled() ? { oomKilled: true as const } : {}),
      ...(timedOut ? { timedOut: true as const } : {}),
    };
  } finally {
    stopStdin?.();
    terminal?.detach();
    clearTimeout(timer);
    req.signal?.removeEventListener('abort', kill);
    closeSync(container.pidfd);
  }
}

function signalName(signal: number): string {
  const entry = Object.entries(constants.signals).find(([, number]) => number === signal);
  return entry ? entry[0] : `signal ${signal}`;
}
