import type { Mount } from '../snapshot/snapshotter.js';

export type { Mount };

/** A resource limit as `docker run --ulimit` sets it, e.g. {name: 'nofile', soft: 1024, hard: 4096}. */
export interface Ulimit {
  name: string;
  soft: number;
  hard: number;
}

export interface ConsoleSize {
  rows: number;
  columns: number;
}

/**
 * 'private': a network namespace of the container's own, with outbound connectivity through a
 * user-mode stack (PrivateNetwork) and no way to the host's services; 'none': one with only lo;
 * 'host': the host's.
 */
export type NetworkMode = 'private' | 'host' | 'none';

export interface ContainerUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  /** The passwd entry's home directory: HOME when the environment sets none (as runc does); default `/`. */
  home?: string;
}

export interface ContainerRequest {
  /** Mounted in order at the container's root, e.g. one overlay mount or one rbind mount. */
  rootfs: Mount[];
  /** An empty host directory; the rootfs is mounted there only inside the container's mount namespace. */
  mountpoint: string;
  /** argv; args[0] is looked up in the container env's PATH if it has no '/'. */
  args: string[];
  /** "K=V" entries. */
  env: string[];
  /** Absolute path inside the container; created (0755) if missing. */
  cwd: string;
  user: ContainerUser;
  hostname: string;
  network: NetworkMode;
  /** Mounted after the standard ones (/proc, /dev, /etc/hosts, ...), in order; targets are created when missing. */
  mounts?: Mount[];
  /** Extra /etc/hosts entries, "name:ip". */
  addHosts?: string[];
  /** Override the defaults (nofile 1024:1048576) or add limits. */
  ulimits?: Ulimit[];
  /** Bytes; the workload is OOM-killed above it (ContainerResult.oomKilled). */
  memory?: number;
  /** CPUs' worth of time, e.g. 0.5. */
  cpus?: number;
  /** Most processes at once; default DEFAULT_PIDS_LIMIT, 0 for none. */
  pidsLimit?: number;
  /**
   * `RUN --security=insecure`, `run --privileged`: every capability, no seccomp filter, no masked
   * or read-only paths, /sys writable. Devices stay Docker's default set.
   */
  privileged?: boolean;
  /** Sets no_new_privs: setuid binaries and file capabilities grant nothing. Off by default, as in Docker. */
  noNewPrivileges?: boolean;
  /** Kills the whole container after this many milliseconds (ContainerResult.timedOut). */
  timeoutMs?: number;
  /** Copied to the workload's stdin, whose end is its EOF; without it stdin is /dev/null. */
  stdin?: NodeJS.ReadableStream;
  /**
   * A pseudo-terminal as the workload's stdin, stdout and stderr and controlling terminal, as
   * `docker run -t` gives: its output goes to `stdout`, `stdin` is typed into it (a terminal
   * `stdin` is put in raw mode meanwhile), and a terminal `stdout`'s size is followed.
   */
  tty?: boolean;
  /** The terminal's initial size; default: `stdout`'s if it is a terminal, else 24x80. */
  consoleSize?: ConsoleSize;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** Abort kills the container's init with SIGKILL; the result then carries the signal. */
  signal?: AbortSignal;
}

/**
 * e.g. {exitCode: 3, signal: null} or {exitCode: null, signal: 'SIGKILL'};
 * `oomKilled` and `timedOut` are present only when true.
 */
export interface ContainerResult {
  exitCode: number | null;
  signal: string | null;
  /** The kernel's OOM killer killed a process of the container (its memory limit was reached). */
  oomKilled?: true;
  timedOut?: true;
}

/**
 * The sandbox options `tcbuild build` applies to every RUN step (--memory, --cpus, --pids-limit, --add-host, --ulimit).
 */
export type SandboxLimits = Pick<ContainerRequest, 'memory' | 'cpus' | 'pidsLimit' | 'addHosts' | 'ulimits'>;
