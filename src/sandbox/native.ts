import { nativeAddon } from '../native-addon.js';

import type { Mount } from './types.js';

/** The spec the addon takes: shaped like an OCI runtime spec (config.json). */
export interface NativeSpec {
  root: { path: string };
  /** Mounted on root.path before anything else; destinations must be "/". */
  rootfsMounts: Mount[];
  mounts: Mount[];
  hostname: string;
  process: {
    args: string[];
    env: string[];
    cwd: string;
    user: { uid: number; gid: number; additionalGids: number[]; umask: number };
    rlimits: { type: string; soft: number; hard: number }[];
    /** CAP_* names; inheritable and ambient are always empty. */
    capabilities: { bounding: string[]; effective: string[]; permitted: string[] };
    noNewPrivileges: boolean;
    /** stdin is a pipe from tcbuild (NativeContainer.stdin), else /dev/null; never with a terminal. */
    stdinPipe: boolean;
    /** A pseudo-terminal as stdin, stdout and stderr, its master sent over NativeContainer.console. */
    terminal: boolean;
    /** The terminal's size, with one. */
    consoleSize?: { height: number; width: number };
  };
  linux: {
    /** network with an `fd`: join that namespace instead of making a new one. */
    namespaces: { type: 'mount' | 'pid' | 'uts' | 'ipc' | 'cgroup' | 'network'; fd?: number }[];
    devices: {
      path: string;
      type: 'c' | 'b' | 'u' | 'p';
      major: number;
      minor: number;
      fileMode: number;
      uid: number;
      gid: number;
    }[];
    maskedPaths: string[];
    readonlyPaths: string[];
    /** Compiled classic-BPF program (8 bytes per instruction), or null for none. */
    seccompFilter: Buffer | null;
    /** cgroup.procs files the init's pid is written to before it goes on. */
    cgroupProcs: string[];
  };
}

/** The container's init process and the read ends of its pipes; the caller owns (and closes) the fds. */
export interface NativeContainer {
  pid: number;
  pidfd: number;
  stdout: number;
  stderr: number;
  report: number;
  /** The write end of the workload's stdin (spec.process.stdinPipe). */
  stdin: number | null;
  /** The socket the terminal's master arrives on (spec.process.terminal). */
  console: number | null;
}

/** Two fds of a terminal's master: one to read its output from, one to write its input to. */
export interface ConsoleMaster {
  read: number;
  write: number;
}

export interface NativeSandbox {
  /** Every CAP_* name the addon knows, in number order. */
  capabilityNames: readonly string[];
  spawn(spec: NativeSpec): NativeContainer;
  /** Calls back once, when the process exits; both null if it could not be reaped. */
  waitForExit(pidfd: number, onExit: (exitCode: number | null, signal: number | null) => void): void;
  /** False if the process has already exited. */
  sendSignal(pidfd: number, signal: number): boolean;
  /** Takes the socket (and closes it); null if the container's init closed it without sending the master. */
  receiveConsole(socket: number): Promise<ConsoleMaster | null>;
  setConsoleSize(master: number, rows: number, columns: number): void;
}

export function loadNative(): NativeSandbox {
  return nativeAddon<NativeSandbox>();
}
