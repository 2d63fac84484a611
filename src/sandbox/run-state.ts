// What sandboxes keep on the host: /etc files to bind-mount, under a
// directory per tcbuild process ("<pid>"), and cgroups named "<pid>-<n>", so
// that what a killed tcbuild left behind can be recognized and removed by the
// next one.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Cgroup } from './cgroup/cgroup.js';
import { writeEtcFiles, type EtcFiles } from './etc-files.js';

let sequence = 0;
let processDir: string | undefined;
/** Written once per distinct content and shared by the sandboxes of this process (they mount them read-only). */
const etcCache = new Map<string, EtcFiles>();

/** /run/tcbuild/sandbox for root, else under $XDG_RUNTIME_DIR or the temp dir. */
export function runStateRoot(): string {
  if (process.getuid?.() === 0) return '/run/tcbuild/sandbox';
  return join(process.env.XDG_RUNTIME_DIR || tmpdir(), `tcbuild-${process.getuid?.() ?? 'user'}`, 'sandbox');
}

/** A name for a new sandbox's cgroup, unique on this host. */
export function newRunName(): string {
  ownDir();
  return `${process.pid}-${++sequence}`;
}

/** The /etc/hosts, /etc/resolv.conf and /etc/hostname files for a sandbox; `nameserver` replaces the host's. */
export function etcFilesFor(hostname: string, addHosts: readonly string[], nameserver?: string): EtcFiles {
  const key = createHash('sha256')
    .update(JSON.stringify([hostname, addHosts, nameserver ?? null]))
    .digest('hex')
    .slice(0, 16);
  let files = etcCache.get(key);
  if (!files) {
    const dir = join(ownDir(), key);
    mkdirSync(dir, { recursive: true });
    etcCache.set(key, (files = writeEtcFiles(dir, hostname, addHosts, nameserver)));
  }
  return files;
}

/** This process's state dir, made on first use after removing what dead ones left. */
function ownDir(): string {
  if (processDir === undefined) {
    removeStaleState();
    processDir = join(runStateRoot(), String(process.pid));
    mkdirSync(processDir, { recursive: true, mode: 0o755 });
    process.once('exit', removeOwnState);
  }
  return processDir;
}

/** Removes this process's state dir (at exit, or before dying of a signal). */
export function removeOwnState(): void {
  if (processDir !== undefined) rmSync(processDir, { recursive: true, force: true });
  processDir = undefined;
  etcCache.clear();
}

function isStale(name: string): boolean {
  const pid = Number(name.split('-')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/** Removes state dirs and cgroups of tcbuild processes that no longer exist. */
function removeStaleState(): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(runStateRoot());
  } catch {
    // nothing yet
  }
  for (const name of entries.filter(isStale)) rmSync(join(runStateRoot(), name), { recursive: true, force: true });
  for (const [name, cgroup] of Cgroup.list()) {
    if (!isStale(name)) continue;
    cgroup.kill();
    cgroup.remove().catch(() => undefined);
  }
}
