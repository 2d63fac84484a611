import { nativeAddon } from '../native-addon.js';

/** The file-system calls of native/fs_ops.cc. Errors are thrown Node-style (`code`, `syscall`). */
export interface FsOps {
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  mkdirat(dirfd: number, name: string, mode: number): void;
  /** `mode` includes the file type (S_IFCHR, S_IFBLK, S_IFIFO). */
  mknodat(dirfd: number, name: string, mode: number, major: number, minor: number): void;
  symlinkat(target: string, dirfd: number, name: string): void;
  /** Never follows a symlink at `oldName`. */
  linkat(oldDirfd: number, oldName: string, newDirfd: number, newName: string): void;
  unlinkat(dirfd: number, name: string, isDir: boolean): void;
  /** Never follows a final symlink. */
  fchownat(dirfd: number, name: string, uid: number, gid: number): void;
  fchmodat(dirfd: number, name: string, mode: number): void;
  /** Never follows a final symlink. */
  utimensat(
    dirfd: number,
    name: string,
    atimeSec: number,
    atimeNsec: number,
    mtimeSec: number,
    mtimeNsec: number,
  ): void;
  /** st_mode, or null when `name` does not exist; never follows a final symlink. */
  lstatMode(dirfd: number, name: string): number | null;
  lsetxattr(path: string, name: string, value: Buffer): void;
  /** null when the attribute is absent or the file system has none. */
  lgetxattr(path: string, name: string): Buffer | null;
  llistxattr(path: string): string[];
  /** flock(2) without waiting: false when another open file holds a conflicting lock. */
  flock(fd: number, mode: 'shared' | 'exclusive' | 'unlock'): boolean;
  constants: {
    AT_FDCWD: number;
    O_PATH: number;
    O_CLOEXEC: number;
    O_DIRECTORY: number;
    O_NOFOLLOW: number;
    O_CREAT: number;
    O_EXCL: number;
    O_WRONLY: number;
    RESOLVE_BENEATH: number;
    RESOLVE_IN_ROOT: number;
    RESOLVE_NO_SYMLINKS: number;
    RESOLVE_NO_MAGICLINKS: number;
    RESOLVE_NO_XDEV: number;
    S_IFCHR: number;
    S_IFBLK: number;
    S_IFIFO: number;
  };
}

/** A streaming codec of the addon (native/codec_step.h): zstd, or bzip2/xz decompression. One run() at a time. */
export interface NativeCodecStream {
  run(input: Buffer, end: boolean, callback: (err: Error | null, result: CodecStepResult) => void): void;
  close(): void;
}

export interface CodecStepResult {
  output: Buffer;
  /** Bytes of the input used; the rest must be passed again. */
  consumed: number;
  /** Compressing: the frame is complete. Decompressing: the input so far ends where a frame (or stream) does. */
  finished: boolean;
}

/** The archive formats native/archive_decompress.cc decompresses. */
export type ArchiveDecompression = 'bzip2' | 'xz';

interface Addon {
  fsOps?: FsOps;
  ZstdStream?: new (compress: boolean, level: number, workers: number) => NativeCodecStream;
  DecompressStream?: new (format: ArchiveDecompression) => NativeCodecStream;
}

function addon(): Addon {
  return nativeAddon<Addon>();
}

function missing(what: string): Error {
  return new Error(`the native addon has no ${what}: rebuild it with \`npm run build\``);
}

export function fsOps(): FsOps {
  const ops = addon().fsOps;
  if (!ops) throw missing('fsOps');
  return ops;
}

export function newZstdStream(compress: boolean, level: number, workers: number): NativeCodecStream {
  const ZstdStream = addon().ZstdStream;
  if (!ZstdStream) throw missing('ZstdStream');
  return new ZstdStream(compress, level, workers);
}

export function newDecompressStream(format: ArchiveDecompression): NativeCodecStream {
  const DecompressStream = addon().DecompressStream;
  if (!DecompressStream) throw missing('DecompressStream');
  return new DecompressStream(format);
}

/** A path naming `name` inside the directory open as `dirfd`, for calls that have no *at form. */
export function pathAt(dirfd: number, name: string): string {
  return `/proc/self/fd/${dirfd}/${name}`;
}
