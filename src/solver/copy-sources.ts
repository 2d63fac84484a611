import { posix } from 'node:path';
import { DockerfileError } from '../frontend/errors.js';
import { hasGlobMeta, matchPathElement } from '../frontend/glob.js';
import { PatternMatcher } from '../frontend/patterns.js';
import type { StepDescription } from '../graph/vertex.js';
import type { SourceTree } from './context-view.js';

/** One path a COPY source names, after wildcard expansion. */
export interface SelectedSource {
  /** Absolute inside the source tree, as named (or matched). */
  named: string;
  /** What is read: `named` with a final symlink followed inside the tree (BuildKit's FollowSymlinks). */
  path: string;
  /** With --parents: the path it keeps under the destination (from the `/./` pivot, else the whole path). */
  keep: string | undefined;
}

/**
 * Expands COPY sources in a tree: wildcards (Go filepath.Match per element), `..` never above
 * the root, --exclude patterns dropping whole matches. A missing literal source is an error; a
 * wildcard may match nothing (BuildKit's AllowEmptyWildcard), and with --parents every source is
 * a pattern. A symlink a source names is followed; symlinks below a copied directory are not.
 */
export function selectSources(
  tree: SourceTree,
  sources: readonly string[],
  opts: { parents: boolean; excludes: PatternMatcher | undefined; at: StepDescription },
): SelectedSource[] {
  const selected: SelectedSource[] = [];
  for (const source of sources) {
    const pivot = opts.parents ? source.indexOf('/./') : -1;
    const base = pivot < 0 ? '/' : posix.normalize(`/${source.slice(0, pivot)}`);
    for (const named of expand(tree, source, opts.parents, opts.at)) {
      if (opts.excludes?.matches(named.slice(1))) continue;
      const path = tree.resolve(named, { followFinal: true });
      if (!tree.lstat(path)) throw notFound(source, opts.at, `${named} is a symlink to ${path}, which is not in it`);
      selected.push({ named, path, keep: opts.parents ? posix.relative(base, named) : undefined });
    }
  }
  return selected;
}

function expand(tree: SourceTree, source: string, lenient: boolean, at: StepDescription): string[] {
  const clean = posix.normalize(`/${source}`);
  if (!hasGlobMeta(clean)) {
    if (tree.lstat(clean)) return [clean];
    if (lenient) return [];
    const escaped = clean.includes('\\')
      ? `; a backslash before a wildcard character stays in the path: name arr[0].txt as arr[[]0].txt`
      : '';
    throw notFound(
      source,
      at,
      `check the path (it is relative to the context directory) and that .dockerignore does not exclude it${escaped}`,
    );
  }
  let paths = ['/'];
  for (const part of clean.split('/').filter(Boolean)) {
    paths = paths.flatMap((dir) => {
      if (!/[*?[\\]/.test(part)) return tree.lstat(posix.join(dir, part)) ? [posix.join(dir, part)] : [];
      if (!tree.lstat(dir)?.isDirectory()) return [];
      return tree
        .readdir(dir)
        .filter((name) => matchPathElement(part, name))
        .sort()
        .map((name) => posix.join(dir, name));
    });
  }
  return paths;
}

function notFound(source: string, at: StepDescription, hint: string): DockerfileError {
  return new DockerfileError(at.file, at.line, `${at.text}: "${source}" not found in the build context`, { hint });
}

/** --exclude patterns, or undefined when there are none. */
export function excludeMatcher(patterns: readonly string[]): PatternMatcher | undefined {
  return patterns.length > 0 ? new PatternMatcher(patterns) : undefined;
}

/**
 * Visits everything below a selected directory in name order, parents before children, skipping
 * what `excludes` matches (paths relative to the directory); an excluded directory is still
 * entered when an exception pattern may re-include something in it.
 */
export function* walkTree(
  tree: SourceTree,
  dir: string,
  excludes: PatternMatcher | undefined,
  rel = '',
): Generator<{ path: string; rel: string; excluded: boolean }> {
  for (const name of tree.readdir(dir).sort()) {
    const path = posix.join(dir, name);
    const childRel = rel === '' ? name : `${rel}/${name}`;
    const excluded = excludes?.matches(childRel) ?? false;
    const isDir = tree.lstat(path)?.isDirectory() === true;
    if (excluded && !(isDir && excludes!.hasExclusions && excludes!.mayIncludeBelow(childRel))) continue;
    yield { path, rel: childRel, excluded };
    if (isDir) yield* walkTree(tree, path, excludes, childRel);
  }
}
