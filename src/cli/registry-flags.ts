import type { Command } from 'commander';
import type { RegistryOptions } from '../registry/index.js';
import { transferProgress } from './transfer-progress.js';

export interface RegistryFlags {
  tlsVerify: boolean;
  insecureRegistry?: string[];
}

/** --tls-verify and --insecure-registry, shared by every command that talks to a registry. */
export function addRegistryFlags(cmd: Command, collect: (v: string, p?: string[]) => string[]): Command {
  return cmd
    .option('--tls-verify <bool>', 'verify registry TLS certificates', (v) => v !== 'false', true)
    .option('--insecure-registry <host>', 'speak plain HTTP to this registry (repeatable)', collect);
}

/** The registry client's options from the flags; `quiet` (push/pull -q) drops the progress line. */
export function registryOptions(flags: RegistryFlags, opts: { quiet?: boolean } = {}): RegistryOptions {
  const onProgress = opts.quiet ? undefined : transferProgress();
  return { insecure: !flags.tlsVerify, plainHttpHosts: flags.insecureRegistry ?? [], ...(onProgress ? { onProgress } : {}) };
}
