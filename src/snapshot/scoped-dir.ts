import { closeSync, fstatSync, readdirSync, type Stats } from 'node:fs';
import { InvalidInputError, isErrno } from '../errors.js';
import { fsOps } from './native.js';

/**
 * A directory opened once, below which every path is resolved fd-relative with openat2: never
 * through a symlink, a magic link or '..' — so nothing an untrusted archive created can redirect
 * a later write outside it.
 */
export class ScopedDir {
  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  static open(path: string): ScopedDir {
    const { constants: c, openat2 } = fsOps();
    return new ScopedDir(path, openat2(c.AT_FDCWD, path, c.O_PATH | c.O_DIRECTORY | c.O_CLOEXEC, 0, 0));
  }

  close(): void {
    closeSync(this.fd);
  }

  /**
   * An O_PATH fd of the directory at `components` (the root for []); the caller closes it. With
   * `create`, missing directories are made (0755, owned by the caller), as tar does for entries
   * whose parents the archive does not list.
   */
  openDir(components: readonly string[], create: boolean): number {
    try {
      return this.openBelow(this.fd, components.join('/') || '.');
    } catch (err) {
      if (!isErrno(err, 'ENOENT') || !create) throw explain(err, components);
    }
    let fd = this.openBelow(this.fd, '.');
    try {
      for (const name of components) {
        try {
          fsOps().mkdirat(fd, name, 0o755);
        } catch (err) {
          if (!isErrno(err, 'EEXIST')) throw err;
        }
        const next = this.openBelow(fd, name);
        closeSync(fd);
        fd = next;
      }
      return fd;
    } catch (err) {
      closeSync(fd);
      throw explain(err, components);
    }
  }

  /** Opens a new file `name` in the directory `dirfd` for writing; it must not exist. */
  createFile(dirfd: number, name: string): number {
    const { constants: c, openat2 } = fsOps();
    return openat2(dirfd, name, c.O_WRONLY | c.O_CREAT | c.O_EXCL | c.O_NOFOLLOW | c.O_CLOEXEC, 0o600, scopedResolve());
  }

  /** Like lstat(2) of `name` in the directory `dirfd`; undefined when there is no such entry. */
  lstatAt(dirfd: number, name: string): Stats | undefined {
    const fd = this.openEntry(dirfd, name);
    if (fd === undefined) return undefined;
    try {
      return fstatSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Whether `name` in the directory `dirfd` is a directory with nothing in it. */
  isEmptyDirAt(dirfd: number, name: string): boolean {
    const fd = this.openEntry(dirfd, name);
    if (fd === undefined) return false;
    try {
      return fstatSync(fd).isDirectory() && readdirSync(`/proc/self/fd/${fd}`).length === 0;
    } finally {
      closeSync(fd);
    }
  }

  private openEntry(dirfd: number, name: string): number | undefined {
    const { constants: c, openat2 } = fsOps();
    try {
      return openat2(dirfd, name, c.O_PATH | c.O_NOFOLLOW | c.O_CLOEXEC, 0, scopedResolve());
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  private openBelow(dirfd: number, path: string): number {
    const { constants: c, openat2 } = fsOps();
    return openat2(dirfd, path, c.O_PATH | c.O_DIRECTORY | c.O_CLOEXEC, 0, scopedResolve());
  }
}

function scopedResolve(): number {
  const c = fsOps().constants;
  return c.RESOLVE_BENEATH | c.RESOLVE_NO_SYMLINKS | c.RESOLVE_NO_MAGICLINKS | c.RESOLVE_NO_XDEV;
}

function explain(err: unknown, components: readonly string[]): unknown {
  const path = components.join('/');
  if (isErrno(err, 'ELOOP')) return new InvalidInputError(`"${path}" passes through a symlink`, { cause: err });
  if (isErrno(err, 'ENOTDIR'))
    return new InvalidInputError(`"${path}" passes through something that is not a directory`, { cause: err });
  if (isErrno(err, 'EXDEV'))
    return new InvalidInputError(`"${path}" leads outside the target directory`, { cause: err });
  return err;
}
