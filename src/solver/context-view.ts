import { readdirSync, readlinkSync, type Stats } from 'node:fs';
import { posix } from 'node:path';
import { TcbuildError } from '../errors.js';
import { PatternMatcher } from '../frontend/patterns.js';
import type { Located } from '../snapshot/index.js';
import { lstatOrUndefined } from '../snapshot/view.js';

/** A filesystem a COPY reads from: paths are absolute inside it, and never lead out of it. */
export interface SourceTree {
  /** Like lstat(2), with symlinks before the last component followed inside the tree. */
  lstat(path: string): Stats | undefined;
  /** The host path of the entry `path` names (a final symlink not followed). */
  hostPath(path: string): string | undefined;
  readdir(path: string): string[];
  /** The path `path` leads to once symlinks are followed inside the tree (the last one only with `followFinal`). */
  resolve(path: string, options: { followFinal: boolean }): string;
  /** Where the entry `path` leads to (every symlink followed inside the tree) is on the host. */
  locate(path: string): Located | undefined;
}

/** Linux's limit on symlinks followed while resolving one path. */
const MAX_SYMLINKS = 40;

/**
 * The build context as a COPY sees it: the directory minus what .dockerignore excludes, paths
 * resolved with chroot semantics (no symlink or '..' leads out of it). An excluded directory
 * stays visible only when an exception (`!pattern`) re-includes something in it. The directory
 * is taken not to change during a build: lookups are remembered.
 */
export class ContextView implements SourceTree {
  private readonly matcher: PatternMatcher;
  private readonly stats = new Map<string, Stats | undefined>();
  private readonly resolvedDirs = new Map<string, string>();
  private readonly visibleDirs = new Map<string, boolean>();

  constructor(
    readonly dir: string,
    excludes: readonly string[],
  ) {
    this.matcher = new PatternMatcher(excludes);
  }

  lstat(path: string): Stats | undefined {
    const real = this.realPath(path, false);
    return this.visible(real) ? this.lstatReal(real) : undefined;
  }

  hostPath(path: string): string | undefined {
    const real = this.realPath(path, false);
    return this.visible(real) && this.lstatReal(real) ? this.dir + real : undefined;
  }

  readdir(path: string): string[] {
    const real = this.realPath(path, true);
    if (!this.lstatReal(real)?.isDirectory()) throw new TcbuildError(`${path} is not a directory in the build context`);
    const prefix = real === '/' ? '' : real;
    return readdirSync(this.dir + real)
      .filter((name) => this.visible(`${prefix}/${name}`))
      .sort();
  }

  resolve(path: string, options: { followFinal: boolean }): string {
    return this.realPath(path, options.followFinal);
  }

  locate(path: string): Located | undefined {
    const real = this.realPath(path, true);
    const stat = this.visible(real) ? this.lstatReal(real) : undefined;
    return stat ? { path: real, stat, layerDirs: [this.dir] } : undefined;
  }

  /**
   * What is on disk below the real directory `dir` but not in the context (.dockerignore), as
   * paths relative to it, outermost first: what a mount of the directory must hide.
   */
  hiddenBelow(dir: string): string[] {
    const hidden: string[] = [];
    if (this.matcher.empty) return hidden;
    const walk = (real: string, rel: string) => {
      for (const name of readdirSync(this.dir + real).sort()) {
        const path = real === '/' ? `/${name}` : `${real}/${name}`;
        const childRel = rel === '' ? name : `${rel}/${name}`;
        if (!this.visible(path)) hidden.push(childRel);
        else if (this.lstatReal(path)?.isDirectory()) walk(path, childRel);
      }
    };
    walk(dir, '');
    return hidden;
  }

  /**
   * The real path (no symlinks; the final one followed only with `followFinal`) that `path` names inside the context.
   */
  private realPath(path: string, followFinal: boolean, depth = 0): string {
    const clean = posix.normalize(`/${path}`);
    if (clean === '/') return '/';
    const parent = this.resolveDir(posix.dirname(clean), depth);
    const real = posix.join(parent, posix.basename(clean));
    if (!followFinal || !this.lstatReal(real)?.isSymbolicLink()) return real;
    return this.followLink(real, parent, depth);
  }

  private resolveDir(dir: string, depth: number): string {
    let real = this.resolvedDirs.get(dir);
    if (real === undefined) {
      real = this.realPath(dir, true, depth);
      this.resolvedDirs.set(dir, real);
    }
    return real;
  }

  private followLink(link: string, parent: string, depth: number): string {
    if (depth >= MAX_SYMLINKS)
      throw new TcbuildError(`too many levels of symbolic links resolving ${link} in the build context`);
    const target = readlinkSync(this.dir + link);
    return this.realPath(target.startsWith('/') ? target : posix.join(parent, target), true, depth + 1);
  }

  /** A path that goes through a file does not exist (as in the merged view of layers). */
  private lstatReal(real: string): Stats | undefined {
    if (!this.stats.has(real)) this.stats.set(real, lstatOrUndefined(this.dir + real));
    return this.stats.get(real);
  }

  /** `path` is resolved (no symlinks) and absolute. */
  private visible(path: string): boolean {
    if (path === '/' || this.matcher.empty) return true;
    const rel = path.slice(1);
    if (!this.matcher.matches(rel)) return true;
    if (!this.matcher.hasExclusions || !this.matcher.mayIncludeBelow(rel)) return false;
    return this.hasVisibleDescendant(path);
  }

  private hasVisibleDescendant(dir: string): boolean {
    let known = this.visibleDirs.get(dir);
    if (known === undefined) {
      known =
        this.lstatReal(dir)?.isDirectory() === true &&
        readdirSync(this.dir + dir).some((name) => this.visible(`${dir}/${name}`));
      this.visibleDirs.set(dir, known);
    }
    return known;
  }
}
