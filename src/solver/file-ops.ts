import { chmod, lchown, lutimes, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import {
  chmodSync,
  copyFileSync,
  lchownSync,
  lutimesSync,
  mkdirSync,
  readlinkSync,
  symlinkSync,
  type Stats,
} from 'node:fs';
import { DockerfileError } from '../frontend/errors.js';
import type { CopyVertex } from '../graph/vertex.js';
import { resolveFileOwner } from '../sandbox/user.js';
import { copyFileCapabilities } from '../snapshot/xattrs.js';
import { LayeredView } from '../snapshot/index.js';
import { createdDirectoryMode, parseChmod, type ModeSpec } from './chmod.js';
import type { SourceTree } from './context-view.js';
import { excludeMatcher, selectSources, walkTree } from './copy-sources.js';

/** What a COPY reads: a filesystem tree (context, stage, image, download), or inline heredoc files. */
export type CopySource =
  | {
      kind: 'tree';
      tree: SourceTree;
      keepOwners: boolean;
      unpack?: (path: string, hostPath: string) => Promise<UnpackedArchive | undefined>;
      /** The paths to copy, where only fetching the source tells them (a download's file name); else the vertex's. */
      sources?: string[];
    }
  | { kind: 'inline'; files: { name: string; content: string }[] };

/**
 * A local archive ADD unpacked: its tree, and the paths ('a/b') its entries name (the other directories are implied).
 */
export interface UnpackedArchive {
  tree: SourceTree;
  entries: ReadonlySet<string>;
}

interface Owner {
  uid: number;
  gid: number;
}

const ROOT: Owner = { uid: 0, gid: 0 };

/** Owner and mode of the directories a step creates on the way to its destination. */
interface NewDirectory {
  owner: Owner;
  mode: number;
}

const ROOT_DIRECTORY: NewDirectory = { owner: ROOT, mode: 0o755 };

/**
 * Writes into a new snapshot's upper directory as if into the merged filesystem: every
 * destination is resolved through the merged view (upper over the lower layers) with chroot
 * semantics, so no symlink — in the base image or just copied — leads a write out of the root.
 */
class Destination {
  readonly merged: LayeredView;

  constructor(
    readonly upper: string,
    lowerDirs: readonly string[],
  ) {
    this.merged = new LayeredView([upper, ...lowerDirs]);
  }

  /** The host path of container path `path`, its parent made to exist (symlinks in it followed inside the root). */
  async entry(path: string, newParents: NewDirectory): Promise<{ host: string; path: string }> {
    const parent = await this.directory(posix.dirname(path), newParents);
    const resolved = posix.join(parent, posix.basename(path));
    return { host: join(this.upper, resolved), path: resolved };
  }

  /**
   * Makes the directory `path` exist (symlinks followed inside the root): components that exist
   * below are recreated in the upper directory with their metadata, so the merged view is
   * unchanged; new ones get `fresh`'s owner and mode. Returns the resolved path.
   */
  async directory(path: string, fresh: NewDirectory): Promise<string> {
    const dir = this.merged.resolve(path, { followFinal: true });
    let current = '/';
    for (const part of dir.split('/').filter(Boolean)) {
      current = posix.join(current, part);
      const existing = this.merged.lstat(current);
      if (existing && !existing.isDirectory()) {
        throw new Error(`cannot create directory ${current}: a file is in the way`);
      }
      const host = join(this.upper, current);
      const created = await mkdir(host).then(
        () => true,
        (err: NodeJS.ErrnoException) => {
          if (err.code !== 'EEXIST') throw err;
          return false;
        },
      );
      if (!created) continue;
      const meta = existing ?? undefined;
      await chmod(host, meta ? meta.mode & 0o7777 : fresh.mode);
      await lchown(host, meta?.uid ?? fresh.owner.uid, meta?.gid ?? fresh.owner.gid);
      if (meta) await lutimes(host, meta.atime, meta.mtime);
    }
    return dir;
  }
}

/** WORKDIR: creates the directory (and parents) as root with mode 0755 unless it exists. */
export async function makeDirectory(
  upper: string,
  lowerDirs: readonly string[],
  path: string,
  user: string,
  fail: (m: string) => never,
): Promise<void> {
  const owner =
    user === '' ? ROOT : resolveOwner(user, new LayeredView([...lowerDirs]), (m) => fail(`USER ${user}: ${m}`));
  await new Destination(upper, lowerDirs).directory(path, { ...ROOT_DIRECTORY, owner });
}

/**
 * COPY/ADD: writes the copied files into `upper`, the new layer's directory. `lowerDirs` are the
 * layers the copy lands on (none with --link); `base` is the stage's filesystem, where --chown
 * names are looked up.
 */
export async function copyFiles(
  v: CopyVertex,
  upper: string,
  lowerDirs: readonly string[],
  base: LayeredView,
  from: CopySource,
): Promise<void> {
  const fail = (message: string): never => {
    throw new DockerfileError(v.description.file, v.description.line, `${v.description.text}: ${message}`);
  };
  const dest = new Destination(upper, lowerDirs);
  const owner =
    v.chown !== undefined ? resolveOwner(v.chown, base, (m) => fail(`--chown=${v.chown}: ${m}`)) : undefined;
  const mode =
    v.chmod !== undefined
      ? (parseChmod(v.chmod) ?? fail(`--chmod=${v.chmod}: expected an octal mode (755) or symbolic clauses (u+x,g=r)`))
      : undefined;
  const newDirs: NewDirectory = { owner: owner ?? ROOT, mode: createdDirectoryMode(v.chmod) };
  const destIsDir = (count: number) =>
    v.dest.endsWith('/') ||
    count > 1 ||
    dest.merged.lstat(dest.merged.resolve(v.dest, { followFinal: true }))?.isDirectory() === true;

  if (from.kind === 'inline') {
    const intoDir = destIsDir(from.files.length);
    for (const file of from.files) {
      const target = await dest.entry(intoDir ? posix.join(v.dest, file.name) : v.dest, newDirs);
      await rm(target.host, { force: true });
      await writeFile(target.host, file.content);
      setMetadata(target.host, { mode: mode?.(0o644, false) ?? 0o644, owner: owner ?? ROOT });
    }
    return;
  }

  const excludes = excludeMatcher(v.excludes);
  const matches = selectSources(from.tree, from.sources ?? v.sources, {
    parents: v.parents,
    excludes,
    at: v.description,
  });
  const intoDir = destIsDir(matches.length);
  const options: EntryOptions = { owner, mode, keepOwners: from.keepOwners };
  const dirTimes: { host: string; st: Stats }[] = [];
  try {
    for (const { named, path, keep } of matches) {
      const st = from.tree.lstat(path)!;
      const unpacked = from.unpack && st.isFile() ? await from.unpack(path, from.tree.hostPath(path)!) : undefined;
      if (unpacked) {
        await mergeArchive(
          unpacked,
          await dest.directory(v.dest, newDirs),
          { ...options, keepOwners: true },
          dest,
          dirTimes,
        );
        continue;
      }
      if (st.isDirectory()) {
        const target = keep !== undefined ? posix.join(v.dest, keep) : v.dest;
        const dir = await dest.directory(target, newDirs);
        if (keep !== undefined) await copyEntry(from.tree, path, st, join(upper, dir), options);
        await copyTree(from.tree, path, dir, options, excludes, dest, dirTimes);
        if (keep !== undefined) dirTimes.push({ host: join(upper, dir), st });
        continue;
      }
      const name = keep ?? posix.basename(named);
      const target = await dest.entry(intoDir || keep !== undefined ? posix.join(v.dest, name) : v.dest, newDirs);
      await replaceNonDirectory(dest, target.path, target.host);
      await copyEntry(from.tree, path, st, target.host, options);
    }
    for (const { host, st } of dirTimes.reverse()) await lutimes(host, st.atime, st.mtime);
  } catch (err) {
    if (err instanceof DockerfileError) throw err;
    fail(err instanceof Error ? err.message : String(err));
  }
}

/**
 * Copies what is in the directory `path` of `tree` (resolved inside the tree) into the host
 * directory `targetDir`, owners, modes and times kept: how a cache mount is seeded `from=`.
 */
export async function copyDirectoryContents(
  tree: SourceTree,
  path: string,
  targetDir: string,
  fail: (m: string) => never,
): Promise<void> {
  const located = tree.locate(path);
  if (!located) fail(`mount source "${path}" does not exist`);
  if (!located!.stat.isDirectory()) fail(`mount source "${path}" is not a directory`);
  const dirTimes: { host: string; st: Stats }[] = [];
  await copyTree(
    tree,
    located!.path,
    '/',
    { owner: undefined, mode: undefined, keepOwners: true },
    undefined,
    new Destination(targetDir, []),
    dirTimes,
  );
  for (const { host, st } of dirTimes.reverse()) await lutimes(host, st.atime, st.mtime);
}

interface EntryOptions {
  owner: Owner | undefined;
  mode: ModeSpec | undefined;
  /** Files from a stage or image keep their owners; files from the context belong to root. */
  keepOwners: boolean;
}

async function copyTree(
  tree: SourceTree,
  src: string,
  targetDir: string,
  opts: EntryOptions,
  excludes: ReturnType<typeof excludeMatcher>,
  dest: Destination,
  dirTimes: { host: string; st: Stats }[],
): Promise<void> {
  /** Target directories this copy created: nothing can be in the way below them, so they need no lookups. */
  const fresh = new Set<string>();
  for (const { path, rel } of walkTree(tree, src, excludes)) {
    const st = tree.lstat(path)!;
    const targetPath = posix.join(targetDir, rel);
    const host = join(dest.upper, targetPath);
    const inFreshDir = fresh.has(posix.dirname(targetPath));
    if (st.isDirectory()) {
      const existing = inFreshDir ? undefined : dest.merged.lstat(targetPath);
      if (existing && !existing.isDirectory())
        throw new Error(`cannot copy directory ${path} over ${targetPath}, which is not a directory`);
      if (!existing) fresh.add(targetPath);
      await copyEntry(tree, path, st, host, opts);
      dirTimes.push({ host, st });
    } else {
      if (!inFreshDir) await replaceNonDirectory(dest, targetPath, host);
      await copyEntry(tree, path, st, host, opts);
    }
  }
}

/**
 * ADD of a local archive into the directory `targetDir`, as BuildKit unpacks it (docker's
 * chrootarchive.Untar into the destination): paths resolve with `targetDir` as their root, so a
 * symlink on the way is followed but never above it; an entry replaces whatever of another type is
 * at its path (a directory merges into a directory only); a directory the archive only implies
 * takes what is there.
 */
async function mergeArchive(
  archive: UnpackedArchive,
  targetDir: string,
  opts: EntryOptions,
  dest: Destination,
  dirTimes: { host: string; st: Stats }[],
): Promise<void> {
  /** Where each of the archive's directories landed ('' is the archive root), and whether this ADD made it. */
  const landed = new Map<string, { path: string; fresh: boolean }>([['', { path: targetDir, fresh: false }]]);
  for (const { path, rel } of walkTree(archive.tree, '/', undefined)) {
    const st = archive.tree.lstat(path)!;
    const parent = landed.get(posix.dirname(rel) === '.' ? '' : posix.dirname(rel))!;
    const targetPath = posix.join(parent.path, posix.basename(rel));
    const host = join(dest.upper, targetPath);
    const existing = parent.fresh ? undefined : dest.merged.lstat(targetPath);
    if (st.isDirectory() && existing && !archive.entries.has(rel)) {
      const resolved = dest.merged.resolve(posix.relative(targetDir, targetPath), {
        followFinal: true,
        root: targetDir,
      });
      if (dest.merged.lstat(resolved)?.isDirectory() !== true)
        throw new Error(`cannot unpack ${rel}/ into ${resolved}: it is not a directory`);
      landed.set(rel, { path: await dest.directory(resolved, ROOT_DIRECTORY), fresh: false });
      continue;
    }
    if (existing && !(st.isDirectory() && existing.isDirectory())) await rm(host, { recursive: true, force: true });
    if (existing?.isDirectory() && st.isDirectory()) await dest.directory(targetPath, ROOT_DIRECTORY);
    await copyEntry(archive.tree, path, st, host, opts);
    if (st.isDirectory()) {
      landed.set(rel, { path: targetPath, fresh: !existing?.isDirectory() });
      dirTimes.push({ host, st });
    }
  }
}

/** A file replaces whatever non-directory is at its target (in the upper directory: below, it is simply hidden). */
async function replaceNonDirectory(dest: Destination, path: string, host: string): Promise<void> {
  const existing = dest.merged.lstat(path);
  if (existing?.isDirectory()) throw new Error(`cannot copy a file over the directory ${path}`);
  await rm(host, { force: true });
}

/**
 * One entry, its owner, mode and times. Synchronous on purpose: a COPY of thousands of small
 * files is dominated by round trips to the thread pool otherwise.
 */
async function copyEntry(tree: SourceTree, src: string, st: Stats, target: string, opts: EntryOptions): Promise<void> {
  const host = tree.hostPath(src)!;
  const owner = opts.owner ?? (opts.keepOwners ? { uid: st.uid, gid: st.gid } : ROOT);
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(host), target);
    lchownSync(target, owner.uid, owner.gid);
    lutimesSync(target, st.atime, st.mtime);
    return;
  }
  if (st.isDirectory()) {
    mkdirSync(target, { recursive: true });
  } else if (st.isFile()) {
    copyFileSync(host, target);
  } else {
    return;
  }
  setMetadata(target, { mode: opts.mode?.(st.mode, st.isDirectory()) ?? st.mode & 0o7777, owner });
  if (st.isFile()) copyFileCapabilities(host, target);
  lutimesSync(target, st.atime, st.mtime);
}

/** Owner, then mode: chown clears setuid bits. */
function setMetadata(path: string, m: { mode: number; owner: Owner }): void {
  lchownSync(path, m.owner.uid, m.owner.gid);
  chmodSync(path, m.mode);
}

/**
 * A USER-style spec resolved in the image's /etc/passwd and /etc/group, as BuildKit's file operations do; `fail` gets
 * the reason.
 */
function resolveOwner(spec: string, base: LayeredView, fail: (m: string) => never): Owner {
  try {
    const text = (path: string) => base.readFile(path)?.toString('utf8') ?? null;
    return resolveFileOwner(spec, text('/etc/passwd'), text('/etc/group'));
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
}
