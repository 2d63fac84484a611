import type { Command } from 'commander';
import type { RegistryOptions } from '../registry/index.js';
import { transferLine } from '../progress/transfer-line.js';

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

/**
 * The registry client's options from the flags. Transfers show a status line on a terminal unless
 * `quiet` (push/pull -q) or the command renders them itself (`build`'s progress).
 */
export function registryOptions(flags: RegistryFlags, opts: { quiet?: boolean } = {}): RegistryOptions {
  const progress = opts.quiet ? undefined : transferLine();
  return {
    insecure: !flags.tlsVerify,
    plainHttpHosts: flags.insecureRegistry ?? [],
    ...(progress ? { progress } : {}),
  };
}
