import { createRequire } from 'node:module';

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
  };
  linux: {
    namespaces: { type: 'mount' | 'pid' | 'uts' | 'ipc' | 'cgroup' | 'network' }[];
    devices: { path: string; type: 'c' | 'b' | 'u' | 'p'; major: number; minor: number; fileMode: number; uid: number; gid: number }[];
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
}

export interface NativeSandbox {
  spawn(spec: NativeSpec): NativeContainer;
  /** Calls back once, when the process exits; both null if it could not be reaped. */
  waitForExit(pidfd: number, onExit: (exitCode: number | null, signal: number | null) => void): void;
  /** False if the process has already exited. */
  sendSignal(pidfd: number, signal: number): boolean;
}

let loaded: NativeSandbox | undefined;

/** Loaded on first use, so that importing the sandbox works where the addon was not built. */
export function loadNative(): NativeSandbox {
  loaded ??= createRequire(import.meta.url)('../../../build/Release/tcbuild_native.node') as NativeSandbox;
  return loaded;
}
