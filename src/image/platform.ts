import { InvalidInputError } from '../errors.js';
import type { Platform } from './types.js';

const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64',
  'x86-64': 'amd64',
  aarch64: 'arm64',
  armhf: 'arm',
  armel: 'arm',
  i386: '386',
  i686: '386',
};

/** Parses `os/arch[/variant]` (or just `arch`, meaning linux) into a normalized Platform. */
export function parsePlatform(spec: string): Platform {
  const parts = spec.trim().toLowerCase().split('/');
  if (parts.length > 3 || parts.some((p) => p === '')) {
    throw new InvalidInputError(`invalid platform "${spec}": expected os/arch[/variant], e.g. linux/arm64`);
  }
  const [os, arch, variant] = parts.length === 1 ? ['linux', parts[0]!, undefined] : [parts[0]!, parts[1]!, parts[2]];
  return normalizePlatform({ os, architecture: arch, ...(variant ? { variant } : {}) });
}

/** Canonical names, with the default variants BuildKit and containerd assume (arm64 ⇒ v8, arm ⇒ v7). */
export function normalizePlatform(p: Platform): Platform {
  const architecture = ARCH_ALIASES[p.architecture] ?? p.architecture;
  let variant = p.variant;
  if (architecture === 'arm64' && (variant === undefined || variant === '8')) variant = 'v8';
  if (architecture === 'arm' && variant === undefined) variant = 'v7';
  if (architecture === 'arm' && /^\d$/.test(variant ?? '')) variant = `v${variant}`;
  if (architecture === 'amd64' && variant === 'v1') variant = undefined;
  return { os: p.os, architecture, ...(variant ? { variant } : {}) };
}

/** `os/arch[/variant]`, leaving out arm64's implied v8 as docker does. */
export function formatPlatform(p: Platform): string {
  const n = normalizePlatform(p);
  const showVariant = n.variant && !(n.architecture === 'arm64' && n.variant === 'v8');
  return `${n.os}/${n.architecture}${showVariant ? `/${n.variant}` : ''}`;
}

export function platformMatches(want: Platform, have: Platform): boolean {
  const a = normalizePlatform(want);
  const b = normalizePlatform(have);
  return a.os === b.os && a.architecture === b.architecture && (a.variant ?? '') === (b.variant ?? '');
}

const NODE_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
};

export function hostPlatform(): Platform {
  return normalizePlatform({ os: 'linux', architecture: NODE_ARCH[process.arch] ?? process.arch });
}
