import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { PassThrough } from 'node:stream';
import type { ContentStore } from '../content/store.js';
import { storeImageOrIndex } from '../content/store-image.js';
import { TcbuildError } from '../errors.js';
import { DockerfileError } from '../frontend/errors.js';
import { canonicalJson, vertexDigest, type CopyVertex, type ExecVertex, type ImageVertex, type MkdirVertex, type StepDescription, type Vertex } from '../graph/vertex.js';
import { sha256, type Digest } from '../image/digest.js';
import { layerCompressionOf, MediaType } from '../image/media-types.js';
import type { Progress } from '../progress/progress.js';
import { resolveUser, runContainer } from '../sandbox/index.js';
import { LayeredView, writeLayer, type OverlaySnapshotter } from '../snapshot/index.js';
import { BuildCache, type LayerRecord } from './cache.js';
import { contextChecksum, copyFiles, makeDirectory } from './file-ops.js';
import { removeMountTargets } from './mount-targets.js';

export interface SolverOptions {
  root: string;
  blobs: ContentStore;
  snapshotter: OverlaySnapshotter;
  progress: Progress;
  noCache: boolean;
  sourceDateEpoch: number | undefined;
  compressionLevel: number | undefined;
}

/** A solved vertex: the snapshot holding its filesystem and the image layers that make it up. */
export interface Solved {
  cacheKey: Digest;
  snapshot: string | undefined;
  layers: LayerRecord[];
}

const OUTPUT_TAIL_LINES = 10;

/**
 * Runs a build graph: every vertex at most once per build (identical vertices are one promise),
 * each step skipped when a previous build left a result under the same cache key.
 */
export class Solver {
  private readonly solving = new Map<Digest, Promise<Solved>>();
  private readonly cache: BuildCache;
  /** Layer export is CPU-bound (tar, hashing, compression): at most one per core. Waiting RUN steps are not limited. */
  private readonly exportLimit = pLimit(availableParallelism());
  private nextStep = 1;

  constructor(private readonly opts: SolverOptions) {
    this.cache = new BuildCache(opts.root);
  }

  solve(v: Vertex): Promise<Solved> {
    const digest = vertexDigest(v);
    let p = this.solving.get(digest);
    if (!p) {
      p = this.solveOnce(v);
      this.solving.set(digest, p);
    }
    return p;
  }

  private async solveOnce(v: Vertex): Promise<Solved> {
    switch (v.op) {
      case 'scratch':
        return { cacheKey: sha256('scratch'), snapshot: undefined, layers: [] };
      case 'image':
        return this.solveImage(v);
      case 'exec':
      case 'copy':
      case 'mkdir':
        return this.solveStep(v);
    }
  }

  /** A base image: each layer unpacked once into a snapshot named by its chain ID. */
  private async solveImage(v: ImageVertex): Promise<Solved> {
    const found = await storeImageOrIndex(this.opts.blobs, { mediaType: MediaType.ociManifest, digest: v.manifest, size: 0 });
    if (found.kind !== 'image') throw new TcbuildError(`${v.ref}: expected an image manifest at ${v.manifest}`);
    const layers = await found.image.layers();
    let parent: string | undefined;
    let chainId: string | undefined;
    const records: LayerRecord[] = [];
    for (const layer of layers) {
      chainId = chainId === undefined ? layer.diffId : sha256(`${chainId} ${layer.diffId}`);
      const name = `layer-${chainId.slice('sha256:'.length)}`;
      if (!(await this.opts.snapshotter.stat(name))) {
        await this.opts.snapshotter
          .applyLayerAsSnapshot(name, parent, await layer.open(), layerCompressionOf(layer.descriptor.mediaType), { expectedDiffId: layer.diffId })
          .catch((err: unknown) => {
            throw new TcbuildError(`cannot unpack layer ${layer.descriptor.digest} of ${v.ref}: ${err instanceof Error ? err.message : String(err)}`);
          });
      }
      parent = name;
      records.push({ descriptor: layer.descriptor, diffId: layer.diffId });
    }
    return { cacheKey: v.manifest, snapshot: parent, layers: records };
  }

  private async solveStep(v: ExecVertex | CopyVertex | MkdirVertex): Promise<Solved> {
    const [input, source] = await Promise.all([this.solve(v.input), v.op === 'copy' ? this.solveSource(v) : undefined]);
    const cacheKey = sha256(
      canonicalJson({ vertex: vertexDigest(v), input: input.cacheKey, source: source?.cacheKey ?? null }),
    );
    const id = this.nextStep++;
    const name = stepName(v.description);
    if (!this.opts.noCache) {
      const hit = await this.cache.get(cacheKey);
      if (hit && (await this.opts.snapshotter.stat(hit.snapshot)) && (await this.opts.blobs.has(hit.layer.descriptor.digest))) {
        this.opts.progress.emit({ kind: 'step-cached', id, name });
        return { cacheKey, snapshot: hit.snapshot, layers: [...input.layers, hit.layer] };
      }
    }
    this.opts.progress.emit({ kind: 'step-start', id, name });
    const started = Date.now();
    const key = `active-${randomBytes(8).toString('hex')}`;
    const mounts = await this.opts.snapshotter.prepare(key, input.snapshot);
    try {
      const below = new LayeredView(input.snapshot ? this.opts.snapshotter.layerDirs(input.snapshot) : []);
      const upper = this.opts.snapshotter.upperDir(key);
      if (v.op === 'exec') {
        await this.runStep(v, id, mounts, below, key);
        await removeMountTargets(upper, below);
      }
      else if (v.op === 'mkdir') await makeDirectory(upper, below, v.path);
      else await copyFiles(v, upper, below, source!.from);
      const written = await this.exportLimit(() => writeLayer(upper, this.opts.blobs, {
        compression: 'gzip',
        ...(this.opts.compressionLevel !== undefined ? { level: this.opts.compressionLevel } : {}),
        ...(this.opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: this.opts.sourceDateEpoch } : {}),
      }));
      const snapshot = `step-${cacheKey.slice('sha256:'.length)}`;
      await this.opts.snapshotter.remove(snapshot).catch(() => undefined);
      await this.opts.snapshotter.commit(snapshot, key);
      const layer: LayerRecord = { descriptor: written.descriptor, diffId: written.diffId };
      await this.cache.set(cacheKey, { snapshot, layer });
      this.opts.progress.emit({ kind: 'step-done', id, name, seconds: (Date.now() - started) / 1000 });
      return { cacheKey, snapshot, layers: [...input.layers, layer] };
    } catch (err) {
      await this.opts.snapshotter.remove(key).catch(() => undefined);
      throw err;
    }
  }

  /** What a COPY reads from: the context directory, inline files, or another vertex's filesystem. */
  private async solveSource(v: CopyVertex): Promise<{ cacheKey: Digest; from: CopySource }> {
    const src = v.source;
    if (src.op === 'context') {
      return { cacheKey: await contextChecksum(src.dir, v.sources, v.description), from: { kind: 'dir', view: new LayeredView([src.dir]) } };
    }
    if (src.op === 'inline') return { cacheKey: sha256(canonicalJson(src)), from: { kind: 'inline', files: src.files } };
    const solved = await this.solve(src);
    return { cacheKey: solved.cacheKey, from: { kind: 'dir', view: new LayeredView(solved.snapshot ? this.opts.snapshotter.layerDirs(solved.snapshot) : []) } };
  }

  private async runStep(v: ExecVertex, id: number, mounts: Awaited<ReturnType<OverlaySnapshotter['prepare']>>, below: LayeredView, key: string): Promise<void> {
    const user = (() => {
      try {
        const text = (path: string) => below.readFile(path)?.toString('utf8') ?? null;
        return resolveUser(v.user, text('/etc/passwd'), text('/etc/group'));
      } catch (err) {
        throw new DockerfileError(v.description.file, v.description.line, err instanceof Error ? err.message : String(err));
      }
    })();
    const mountpoint = join(this.opts.root, 'run', key);
    await mkdir(mountpoint, { recursive: true });
    const tail: string[] = [];
    const capture = (stream: 'stdout' | 'stderr') => {
      const pass = new PassThrough();
      pass.on('data', (chunk: Buffer) => {
        const text = chunk.toString('utf8');
        this.opts.progress.emit({ kind: 'step-output', id, stream, text });
        tail.push(...text.replace(/\n$/, '').split('\n'));
        tail.splice(0, Math.max(0, tail.length - OUTPUT_TAIL_LINES));
      });
      return pass;
    };
    try {
      const result = await runContainer({
        rootfs: mounts,
        mountpoint,
        args: v.args,
        env: v.env,
        cwd: v.cwd,
        user,
        hostname: 'buildkitsandbox',
        network: v.network,
        stdout: capture('stdout'),
        stderr: capture('stderr'),
      });
      if (result.exitCode !== 0) {
        const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
        const output = tail.length ? `\nlast lines of its output:\n${tail.map((l) => `  ${l}`).join('\n')}` : '';
        throw new DockerfileError(v.description.file, v.description.line, `${v.description.text}: the command ${JSON.stringify(v.args)} ${how}${output}`);
      }
    } catch (err) {
      if (err instanceof TcbuildError) throw err;
      throw new DockerfileError(v.description.file, v.description.line, `${v.description.text}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      await rm(mountpoint, { recursive: true, force: true });
    }
  }
}

export type CopySource = { kind: 'dir'; view: LayeredView } | { kind: 'inline'; files: { name: string; content: string }[] };

function stepName(d: StepDescription): string {
  return `[${d.file}:${d.line}] ${d.text}`;
}

