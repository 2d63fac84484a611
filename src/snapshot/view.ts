import { lstatSync, readFileSync, readdirSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { TcbuildError, isErrno } from '../errors.js';
import { isOpaqueDir, isOverlayWhiteout } from './whiteout.js';

/** Linux's limit on symlinks followed while resolving one path. */
const MAX_SYMLINKS = 40;

/** Where a tree's entry is on the host (SourceTree.locate). */
export interface Located {
  /** The path inside the tree with every symlink resolved. */
  path: string;
  stat: Stats;
  /** The host directories under which `path` is the entry, top first: one, or several merged into a directory. */
  layerDirs: string[];
}

/** An entry as the overlay mount would show it. */
interface Found {
  stat: Stats;
  /** Where the visible entry really is. */
  hostPath: string;
  /** For a directory: the host directories merged into it, top first. */
  layers: string[];
}

/**
 * Reads a stack of overlay layer directories the way the overlay mount would show them — the
 * first layer that has a path wins; whiteouts and opaque directories hide what is below — without
 * mounting anything. Paths are resolved with chroot semantics: the root is '/', and neither '..'
 * nor a symlink (relative or absolute) can lead out of it.
 */
export class LayeredView {
  constructor(private readonly dirsTopFirst: readonly string[]) {}

  /** Like lstat(2): a final symlink is not followed. Undefined when the path does not exist. */
  lstat(path: string): Stats | undefined {
    return this.find(path, false)?.stat;
  }

  /** The host path of the entry `path` shows (a final symlink not followed). */
  hostPath(path: string): string | undefined {
    return this.find(path, false)?.hostPath;
  }

  /**
   * Where the entry `path` leads to (every symlink, the last one too, followed inside the root)
   * is on the host: the layer directories that hold it, top first — one for a file, those merged
   * into it for a directory.
   */
  locate(path: string): Located | undefined {
    const resolved = this.resolve(path, { followFinal: true });
    const found = this.lookup(components(resolved));
    if (!found) return undefined;
    const hosts = found.stat.isDirectory() ? found.layers : [found.hostPath];
    const layerDirs = this.dirsTopFirst.filter((dir) => hosts.includes(resolved === '/' ? dir : join(dir, resolved)));
    return { path: resolved, stat: found.stat, layerDirs };
  }

  /** A regular file's content, or null when there is no such file. */
  readFile(path: string): Buffer | null {
    const found = this.find(path, true);
    return found?.stat.isFile() ? readFileSync(found.hostPath) : null;
  }

  /** The names in a directory, merged across layers, sorted. */
  readdir(path: string): string[] {
    const found = this.find(path, true);
    if (!found?.stat.isDirectory()) throw new TcbuildError(`${path} is not a directory in this filesystem`);
    const visible = new Set<string>();
    const seen = new Set<string>();
    for (const dir of found.layers) {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (seen.has(entry.name)) continue;
        seen.add(entry.name);
        if (entry.isCharacterDevice() && isOverlayWhiteout(lstatSync(join(dir, entry.name)))) continue;
        visible.add(entry.name);
      }
    }
    return [...visible].sort();
  }

  /**
   * The absolute path `path` leads to inside the root once symlinks are followed (the last one
   * only with `followFinal`). Missing components are kept as they are. With `root` (a resolved
   * directory that `path` is relative to), that directory is the root, as after a chroot into it:
   * neither '..' nor an absolute symlink leads above it.
   */
  resolve(path: string, options: { followFinal: boolean; root?: string }): string {
    const base = components(options.root ?? '/');
    const pending = components(path);
    const resolved: string[] = [...base];
    let followed = 0;
    while (pending.length > 0) {
      const name = pending.shift()!;
      if (name === '..') {
        if (resolved.length > base.length) resolved.pop();
        continue;
      }
      const found = this.lookup([...resolved, name]);
      if (found?.stat.isSymbolicLink() && (pending.length > 0 || options.followFinal)) {
        if (++followed > MAX_SYMLINKS) throw new TcbuildError(`too many levels of symbolic links resolving ${path}`);
        const target = readlinkSync(found.hostPath);
        if (target.startsWith('/')) resolved.length = base.length;
        pending.unshift(...components(target));
        continue;
      }
      resolved.push(name);
    }
    return `/${resolved.join('/')}`;
  }

  private find(path: string, followFinal: boolean): Found | undefined {
    return this.lookup(components(this.resolve(path, { followFinal })));
  }

  /** The entry at a path that has no symlinks before its last component. */
  private lookup(path: readonly string[]): Found | undefined {
    let found = this.root();
    for (const name of path) {
      if (!found?.stat.isDirectory()) return undefined;
      found = child(found.layers, name);
    }
    return found;
  }

  private root(): Found | undefined {
    const top = this.dirsTopFirst[0];
    if (top === undefined) return undefined;
    const opaque = this.dirsTopFirst.findIndex((dir) => isOpaqueDir(dir));
    const layers = opaque === -1 ? [...this.dirsTopFirst] : this.dirsTopFirst.slice(0, opaque + 1);
    return { stat: lstatSync(top), hostPath: top, layers };
  }
}

/** `name` inside a directory made of `parentLayers`, with overlay's rules of what hides what. */
function child(parentLayers: readonly string[], name: string): Found | undefined {
  let top: Found | undefined;
  for (const dir of parentLayers) {
    const hostPath = join(dir, name);
    const stat = lstatOrUndefined(hostPath);
    if (!stat) continue;
    if (isOverlayWhiteout(stat)) break;
    top ??= { stat, hostPath, layers: [] };
    if (!stat.isDirectory() || !top.stat.isDirectory()) break;
    top.layers.push(hostPath);
    if (isOpaqueDir(hostPath)) break;
  }
  return top;
}

/** lstat(2), or undefined where nothing is: ENOENT, or a path that goes through a file (ENOTDIR). */
export function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return undefined;
    throw err;
  }
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}
