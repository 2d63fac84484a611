import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before } from 'node:test';
import { loadFixture } from '../../scripts/fixtures.js';
import { tcbuild, tempRoot, type RunResult } from './cli.js';

/** A context file: text, or a symlink (`{ symlink: target }`), or text with a mode. */
export type ContextEntry = string | { symlink: string } | { content: string; mode: number };

/** Writes a fresh build context directory with these files (paths relative to it). */
export async function makeContext(files: Record<string, ContextEntry>, dir?: string): Promise<string> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), 'tcbuild-ctx-')));
  for (const [path, entry] of Object.entries(files)) {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    if (typeof entry === 'string') await writeFile(full, entry);
    else if ('symlink' in entry) await symlink(entry.symlink, full);
    else {
      await writeFile(full, entry.content);
      await chmod(full, entry.mode);
    }
  }
  return root;
}

/** Builds `context` with bin/tcbuild (plain progress) and exports the final filesystem to `<context>.out`. */
export async function buildToDir(
  root: string,
  context: string,
  args: string[] = [],
  input?: string,
): Promise<RunResult & { out: string }> {
  const out = `${context.replace(/\/$/, '')}.out`;
  await rm(out, { recursive: true, force: true });
  const r = await tcbuild(
    ['build', '--progress', 'plain', '-o', `type=local,dest=${out}`, ...args, context],
    { TCBUILD_ROOT: root },
    input,
  );
  return { ...r, out };
}

/** Steps a plain-progress build ran (not CACHED), by their Dockerfile line. */
export function ranLines(stderr: string): number[] {
  const names = new Map<string, number>();
  for (const m of stderr.matchAll(/^#(\d+) \[[^\]]*:(\d+)\]/gm)) names.set(m[1]!, Number(m[2]));
  const cached = new Set([...stderr.matchAll(/^#(\d+) CACHED$/gm)].map((m) => m[1]!));
  return [...names]
    .filter(([id]) => !cached.has(id))
    .map(([, line]) => line)
    .sort((a, b) => a - b);
}

/**
 * For a describe(): a store root with the busybox fixture loaded, and contexts made in it,
 * all removed afterwards. `remove(path)` adds more paths to remove.
 */
export function buildWorkspace(): {
  root(): string;
  context(files: Record<string, ContextEntry>): Promise<string>;
  remove(path: string): void;
} {
  let root = '';
  const leftovers: string[] = [];
  before(async () => {
    root = await tempRoot();
    await loadFixture('busybox:latest', root);
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
    for (const path of leftovers) await rm(path, { recursive: true, force: true });
  });
  return {
    root: () => root,
    context: async (files) => {
      const dir = await makeContext(files);
      leftovers.push(dir, `${dir}.out`);
      return dir;
    },
    remove: (path) => leftovers.push(path),
  };
}
