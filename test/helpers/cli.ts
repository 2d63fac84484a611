import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's top directory (tests run from dist/test/...). */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TCBUILD = join(REPO, 'bin', 'tcbuild');

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, capturing its output. */
export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      env: { ...process.env, ...opts.env },
      cwd: opts.cwd ?? REPO,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs bin/tcbuild with its own store root. */
export function tcbuild(
  args: string[],
  env: NodeJS.ProcessEnv & { TCBUILD_ROOT: string },
  input?: string,
): Promise<RunResult> {
  return run(TCBUILD, args, { env, ...(input !== undefined ? { input } : {}) });
}

export async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'tcbuild-root-'));
}

export const isRoot = process.getuid?.() === 0;
export const NEEDS_ROOT = isRoot ? false : 'needs root (namespaces, overlay mounts)';
