import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { TcbuildError } from '../errors.js';
import { DockerfileError } from '../frontend/errors.js';
import { canonicalJson, type ContextSource, type CopyVertex, type ExecVertex, type Vertex } from '../graph/vertex.js';
import { sha256, type Digest } from '../image/digest.js';
import { LayeredView } from '../snapshot/index.js';
import { unpackArchive } from './archive.js';
import { contextChecksum } from './context-checksum.js';
import { ContextView, type SourceTree } from './context-view.js';
import type { CopySource } from './file-ops.js';
import { FileHashCache } from './file-hash-cache.js';
import { download } from './http-source.js';

/** What the solver gives this module: a vertex's cache key and snapshot. */
export interface SolvedRef {
  cacheKey: Digest;
  snapshot: string | undefined;
}

/** A filesystem a step reads from. */
export interface ReadableSource {
  tree: SourceTree;
  /**
   * Entries below a directory that are on disk but not in the tree (.dockerignore'd), relative to it: what a mount must
   * hide.
   */
  hiddenBelow?(dir: string): string[];
  /** Files from the context belong to root once copied; files from a stage or image keep their owners. */
  keepOwners: boolean;
}

/**
 * The inputs of COPY and RUN --mount besides the step's own parent: local directories (cache key
 * = checksum of what is read), other vertices (their cache key) and downloads (their digest).
 */
export class StepSources {
  private readonly hashCaches = new Map<string, Promise<FileHashCache>>();

  constructor(
    private readonly opts: {
      root: string;
      snapshotter: { layerDirs(name: string): string[] };
      solve(v: Vertex): Promise<SolvedRef>;
    },
  ) {}

  /** A COPY's source; `release()` removes what was downloaded or unpacked for it. */
  async copySource(v: CopyVertex): Promise<{ cacheKey: Digest; from: CopySource; release(): Promise<void> }> {
    const temp = new TempDirs(join(this.opts.root, 'tmp'));
    const withRelease = <T extends object>(x: T) => ({ ...x, release: () => temp.removeAll() });
    const src = v.source;
    if (src.op === 'inline')
      return withRelease({ cacheKey: sha256(canonicalJson(src)), from: { kind: 'inline', files: src.files } });
    if (src.op === 'http') {
      const dir = await temp.make('download-');
      const file = await download(src, dir, v.description);
      const cacheKey = sha256(canonicalJson({ ...src, filename: file.name, digest: file.digest, mtime: file.mtime }));
      return withRelease({
        cacheKey,
        from: { kind: 'tree', tree: new LayeredView([dir]), keepOwners: true, sources: [`/${file.name}`] },
      });
    }
    const unpack = async (_path: string, host: string) => {
      const dir = await temp.make('unpack-');
      const entries = await unpackArchive(host, dir);
      return entries ? { tree: new LayeredView([dir]), entries } : undefined;
    };
    const unpacking = v.unpack ? { unpack } : {};
    if (src.op === 'context') {
      const tree = new ContextView(src.dir, src.excludes);
      const cacheKey = await this.checksum(src, tree, v);
      return withRelease({ cacheKey, from: { kind: 'tree', tree, keepOwners: false, ...unpacking } });
    }
    const solved = await this.opts.solve(src).catch((err: unknown) => {
      if (src.op !== 'git' || !(err instanceof TcbuildError)) throw err;
      const { file, line, text } = v.description;
      const hint = err.hint ? { hint: err.hint } : {};
      throw new DockerfileError(file, line, `${text}: ${err.message}`, { cause: err, ...hint });
    });
    // Files checked out of git belong to root, as in BuildKit, whoever ran git.
    const tree = this.snapshotTree(solved).tree;
    const from = { kind: 'tree', tree, keepOwners: src.op !== 'git', ...unpacking } as const;
    return withRelease({ cacheKey: solved.cacheKey, from });
  }

  /** A RUN mount's source and the key that stands for what it reads. */
  async mountSource(
    source: Vertex | ContextSource,
    path: string,
    at: CopyVertex['description'],
  ): Promise<ReadableSource & { cacheKey: Digest }> {
    if (source.op === 'context') {
      const tree = new ContextView(source.dir, source.excludes);
      const cacheKey = await this.checksum(source, tree, {
        sources: [path],
        parents: false,
        excludes: [],
        description: at,
      });
      return { tree, hiddenBelow: (dir) => tree.hiddenBelow(dir), keepOwners: false, cacheKey };
    }
    const solved = await this.opts.solve(source);
    return { ...this.snapshotTree(solved), cacheKey: solved.cacheKey };
  }

  /** The keys of everything an exec's mounts read (cache mounts' contents are not part of it, as in BuildKit). */
  async mountKeys(v: ExecVertex): Promise<Digest[]> {
    const keys: Digest[] = [];
    for (const m of v.mounts) {
      if (m.type === 'bind') keys.push((await this.mountSource(m.source, m.path, v.description)).cacheKey);
    }
    return keys;
  }

  private snapshotTree(solved: SolvedRef): ReadableSource {
    const dirs = solved.snapshot ? this.opts.snapshotter.layerDirs(solved.snapshot) : [];
    return { tree: new LayeredView(dirs), keepOwners: true };
  }

  private async checksum(
    src: ContextSource,
    tree: ContextView,
    v: Pick<CopyVertex, 'sources' | 'parents' | 'excludes' | 'description'>,
  ): Promise<Digest> {
    let cache = this.hashCaches.get(src.dir);
    if (!cache) {
      cache = FileHashCache.open(this.opts.root, src.dir);
      this.hashCaches.set(src.dir, cache);
    }
    return contextChecksum(
      tree,
      { sources: v.sources, parents: v.parents, excludes: v.excludes, at: v.description },
      await cache,
    );
  }
}

/** Temporary directories under `parent`, removed together. */
class TempDirs {
  private readonly made: string[] = [];

  constructor(private readonly parent: string) {}

  async make(prefix: string): Promise<string> {
    await mkdir(this.parent, { recursive: true });
    const dir = await mkdtemp(join(this.parent, prefix));
    this.made.push(dir);
    return dir;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}
