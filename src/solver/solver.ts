import { mkdir, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { PassThrough } from 'node:stream';
import type { ContentStore } from '../content/store.js';
import { storeImageOrIndex } from '../content/store-image.js';
import { CancelledError, messageOf, TcbuildError } from '../errors.js';
import { DockerfileError } from '../frontend/errors.js';
import {
  canonicalJson,
  vertexDigest,
  type CopyVertex,
  type ExecVertex,
  type ImageVertex,
  type MkdirVertex,
  type StepDescription,
  type Vertex,
} from '../graph/vertex.js';
import { sha256, type Digest } from '../image/digest.js';
import { MediaType, type LayerCompression } from '../image/media-types.js';
import type { Progress } from '../progress/progress.js';
import type { ContainerRequest, SandboxLimits } from '../sandbox/index.js';
import { describeExit } from '../sandbox/exit-description.js';
import { resolveUser } from '../sandbox/user.js';
import { LayeredView, layerMediaType, type Mount } from '../snapshot/index.js';
import { BuildCache, type LayerRecord } from './cache.js';
import { CacheMountLocks } from './cache-mount-locks.js';
import type { Executor } from './executor.js';
import { copyFiles, makeDirectory } from './file-ops.js';
import { configTime } from '../image/history-times.js';
import { removeMountTargets } from './mount-targets.js';
import { solveGit } from './git-source.js';
import { EMPTY_SESSION, prepareRunMounts, type BuildSession } from './run-mounts.js';
import type { LayerDiffer, StepSnapshotter } from './snapshots.js';
import { StepSources } from './sources.js';
import { unpackImageLayers } from './unpack-image.js';

export interface SolverOptions {
  root: string;
  /** Secrets and ssh agents RUN --mount may use. */
  session?: BuildSession;
  blobs: ContentStore;
  snapshotter: StepSnapshotter;
  /** Makes each step's layer and unpacks base images (in production, the snapshotter too). */
  differ: LayerDiffer;
  /** Runs RUN steps: the sandbox (sandboxExecutor), or a test's stand-in. */
  executor: Executor;
  progress: Progress;
  noCache: boolean;
  /** Stages (by name or index) whose steps run even when cached: --no-cache-filter. */
  noCacheStages?: ReadonlySet<string>;
  sourceDateEpoch: number | undefined;
  compression?: LayerCompression;
  compressionLevel: number | undefined;
  /** Limits and /etc/hosts entries for every RUN step's sandbox. */
  sandbox?: SandboxLimits;
  /** Aborting it starts no further step and kills a running RUN; the solve then fails with a CancelledError. */
  signal?: AbortSignal;
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
  private readonly sources: StepSources;
  private readonly cacheMountLocks = new CacheMountLocks();
  /** Layer export is CPU-bound (tar, hashing, compression): at most one per core. Waiting RUN steps are not limited. */
  private readonly exportLimit = pLimit(availableParallelism());
  private nextStep = 1;

  constructor(private readonly opts: SolverOptions) {
    this.cache = new BuildCache(opts.root);
    this.sources = new StepSources({ root: opts.root, snapshotter: opts.snapshotter, solve: (v) => this.solve(v) });
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
      case 'git':
        return { ...(await solveGit(v, this.opts.snapshotter, this.opts)), layers: [] };
      case 'exec':
      case 'copy':
      case 'mkdir':
        return this.solveStep(v);
    }
  }

  /** A base image: each layer unpacked once into a snapshot named by its chain ID. */
  private async solveImage(v: ImageVertex): Promise<Solved> {
    this.throwIfCancelled(`before unpacking ${v.ref}`);
    const found = await storeImageOrIndex(this.opts.blobs, {
      mediaType: MediaType.ociManifest,
      digest: v.manifest,
      size: 0,
    });
    if (found.kind !== 'image') throw new TcbuildError(`${v.ref}: expected an image manifest at ${v.manifest}`);
    const layers = await found.image.layers();
    // Looked up (so leased) now: the image built on them names them, and a prune meanwhile keeps them.
    for (const layer of layers) {
      if (!(await this.opts.blobs.has(layer.descriptor.digest))) {
        throw new TcbuildError(`${v.ref}: its layer ${layer.descriptor.digest} is not in the store`, {
          hint: `pull it again: tcbuild pull ${v.ref}`,
        });
      }
    }
    const parent = await unpackImageLayers(this.opts.snapshotter, this.opts.differ, layers, v.ref);
    const records: LayerRecord[] = layers.map((layer) => ({ descriptor: layer.descriptor, diffId: layer.diffId }));
    return { cacheKey: v.manifest, snapshot: parent, layers: records };
  }

  private async solveStep(v: ExecVertex | CopyVertex | MkdirVertex): Promise<Solved> {
    const [input, source, mountKeys] = await Promise.all([
      this.solve(v.input),
      v.op === 'copy' ? this.sources.copySource(v) : undefined,
      v.op === 'exec' && v.mounts.length > 0 ? this.sources.mountKeys(v) : undefined,
    ]);
    try {
      return await this.solveStepWith(v, input, source, mountKeys);
    } finally {
      await source?.release();
    }
  }

  private async solveStepWith(
    v: ExecVertex | CopyVertex | MkdirVertex,
    input: Solved,
    source: Awaited<ReturnType<StepSources['copySource']>> | undefined,
    mountKeys: Digest[] | undefined,
  ): Promise<Solved> {
    const cacheKey = sha256(
      canonicalJson({
        vertex: vertexDigest(v),
        input: input.cacheKey,
        source: source?.cacheKey ?? null,
        ...(mountKeys ? { mounts: mountKeys } : {}),
      }),
    );
    const id = this.nextStep++;
    const name = stepName(v.description);
    this.throwIfCancelled(`before ${name}`);
    if (!this.opts.noCache && !this.opts.noCacheStages?.has(v.description.stage)) {
      const hit = await this.cache.get(cacheKey);
      if (
        hit &&
        (await this.opts.snapshotter.stat(hit.snapshot)) &&
        (await this.opts.blobs.has(hit.layer.descriptor.digest)) &&
        hit.layer.descriptor.mediaType === layerMediaType(this.opts.compression ?? 'gzip')
      ) {
        await this.cache.touch(cacheKey);
        this.opts.progress.emit({ kind: 'step-cached', id, name });
        return { cacheKey, snapshot: hit.snapshot, layers: [...input.layers, hit.layer] };
      }
    }
    this.opts.progress.emit({ kind: 'step-start', id, name });
    const started = Date.now();
    const key = `active-${randomBytes(8).toString('hex')}`;
    const mounts = await this.opts.snapshotter.prepare(key, input.snapshot);
    try {
      const lowerDirs = input.snapshot ? this.opts.snapshotter.layerDirs(input.snapshot) : [];
      const below = new LayeredView(lowerDirs);
      const upper = this.opts.snapshotter.upperDir(key);
      if (v.op === 'exec') {
        const mountTargets = await this.runStep(v, id, mounts, below, key);
        // On a native snapshotter's whole copy, removing "unchanged" empty dirs would delete real ones.
        if (this.opts.snapshotter.name === 'overlay') await removeMountTargets(upper, below, mountTargets);
      } else if (v.op === 'mkdir') {
        await makeDirectory(upper, lowerDirs, v.path, v.user, (message) => {
          throw new DockerfileError(v.description.file, v.description.line, `${v.description.text}: ${message}`);
        });
      } else await copyFiles(v, upper, v.link ? [] : lowerDirs, below, source!.from);
      const written = await this.exportLimit(() =>
        this.opts.differ.writeLayer(key, this.opts.blobs, {
          compression: this.opts.compression ?? 'gzip',
          ...(this.opts.compressionLevel !== undefined ? { level: this.opts.compressionLevel } : {}),
          ...(this.opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: this.opts.sourceDateEpoch } : {}),
        }),
      );
      // A rebuild under --no-cache may meet the same key while the earlier snapshot still has children.
      const keyPart = cacheKey.slice('sha256:'.length, 'sha256:'.length + 24);
      const snapshot = `step-${keyPart}-${randomBytes(6).toString('hex')}`;
      await this.opts.snapshotter.commit(snapshot, key);
      const layer: LayerRecord = {
        descriptor: written.descriptor,
        diffId: written.diffId,
        created: configTime(new Date()),
      };
      await this.cache.set(cacheKey, { snapshot, layer });
      this.opts.progress.emit({ kind: 'step-done', id, name, seconds: (Date.now() - started) / 1000 });
      return { cacheKey, snapshot, layers: [...input.layers, layer] };
    } catch (err) {
      await this.opts.snapshotter.remove(key).catch(() => undefined);
      throw err;
    }
  }

  /** Runs an exec step's command; returns its --mount targets. */
  private async runStep(
    v: ExecVertex,
    id: number,
    rootfs: Mount[],
    below: LayeredView,
    key: string,
  ): Promise<string[]> {
    const user = (() => {
      try {
        const text = (path: string) => below.readFile(path)?.toString('utf8') ?? null;
        return resolveUser(v.user, text('/etc/passwd'), text('/etc/group'));
      } catch (err) {
        throw new DockerfileError(
          v.description.file,
          v.description.line,
          err instanceof Error ? err.message : String(err),
        );
      }
    })();
    const mountpoint = join(this.opts.root, 'run', key);
    await mkdir(mountpoint, { recursive: true });
    const runMounts = await prepareRunMounts(v, {
      root: this.opts.root,
      runDir: `${mountpoint}.d`,
      sources: this.sources,
      session: this.opts.session ?? EMPTY_SESSION,
      locks: this.cacheMountLocks,
    });
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
      const request: ContainerRequest = {
        rootfs,
        mountpoint,
        mounts: runMounts.mounts,
        args: v.args,
        env: [...v.env, ...runMounts.env],
        cwd: v.cwd,
        user,
        hostname: 'buildkitsandbox',
        network: v.network,
        ...(v.security === 'insecure' ? { privileged: true } : {}),
        ...this.opts.sandbox,
        stdout: capture('stdout'),
        stderr: capture('stderr'),
        ...(this.opts.signal ? { signal: this.opts.signal } : {}),
      };
      const result = await this.opts.executor.run(request);
      if (result.exitCode !== 0) {
        const how = describeExit(result, request);
        const output = tail.length ? `\nlast lines of its output:\n${tail.map((l) => `  ${l}`).join('\n')}` : '';
        throw new DockerfileError(
          v.description.file,
          v.description.line,
          `${v.description.text}: the command ${JSON.stringify(v.args)} ${how}${output}`,
        );
      }
    } catch (err) {
      this.throwIfCancelled(`while running ${stepName(v.description)}`);
      if (err instanceof DockerfileError) throw err;
      const hint = err instanceof TcbuildError && err.hint ? { hint: err.hint } : {};
      throw new DockerfileError(v.description.file, v.description.line, `${v.description.text}: ${messageOf(err)}`, {
        cause: err,
        ...hint,
      });
    } finally {
      await rm(mountpoint, { recursive: true, force: true });
      await runMounts.release();
    }
    return runMounts.targets;
  }

  private throwIfCancelled(when: string): void {
    if (this.opts.signal?.aborted) throw new CancelledError(`the build was cancelled ${when}`);
  }
}

function stepName(d: StepDescription): string {
  return `[${d.file}:${d.line}] ${d.text}`;
}
