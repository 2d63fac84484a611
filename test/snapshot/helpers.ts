import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Mount } from '../../src/snapshot/index.js';

/** Why tests that need root (mounts, chown, mknod, trusted.* xattrs) are skipped, or false. */
export const needsRoot: string | false =
  process.getuid?.() === 0 ? false : 'needs root (mounts, mknod, chown, trusted.* xattrs)';

export const run = promisify(execFile);

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'tcbuild-snapshot-test-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** The shell command that mounts `m` on `target` as a sandbox would (chdir to `cwd` first). */
export function mountCommand(m: Mount, target: string): string {
  const type = m.type === 'bind' ? '' : `-t ${quote(m.type)} `;
  const mount = `mount ${type}-o ${quote(m.options.join(','))} ${quote(m.source)} ${quote(target)}`;
  return m.cwd === undefined ? mount : `(cd ${quote(m.cwd)} && ${mount})`;
}

/**
 * Runs `script` in a private mount namespace (nothing leaks to the host) after mounting `mounts`
 * on `target`; resolves with its output, rejects when it fails.
 */
export async function inMountNamespace(mounts: Mount[], target: string, script: string): Promise<string> {
  const setup = mounts.map((m) => mountCommand(m, target)).join(' && ');
  return new Promise((resolve, reject) => {
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-ec', `${setup}\n${script}`]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(stdout) : reject(new Error(`mount namespace script failed (${code}): ${stderr}`)),
    );
  });
}

/** `tar -tv` style listing lines of an archive file, as GNU tar reads it. */
export async function tarListing(archive: string, gzip: boolean): Promise<string[]> {
  const { stdout } = await run('tar', [gzip ? '-tzvf' : '-tvf', archive, '--numeric-owner']);
  return stdout.trim().split('\n').filter(Boolean);
}
