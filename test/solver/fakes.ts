import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ContentStore } from '../../src/content/store.js';
import { DigestMismatchError } from '../../src/errors.js';
import type { CopyVertex, ExecVertex, StepDescription, Vertex } from '../../src/graph/vertex.js';
import type { Digest } from '../../src/image/digest.js';
import type { Platform } from '../../src/image/types.js';
import type { ProgressEvent } from '../../src/progress/progress.js';
import type { ContainerRequest, ContainerResult } from '../../src/sandbox/index.js';
import {
  applyLayer,
  LayeredView,
  writeLayer,
  type Mount,
  type SnapshotInfo,
  type WriteLayerOptions,
} from '../../src/snapshot/index.js';
import type { Executor } from '../../src/solver/executor.js';
import type { LayerDiffer, StepSnapshotter } from '../../src/solver/snapshots.js';
import { Solver, type Solved, type SolverOptions } from '../../src/solver/solver.js';

/**
 * Snapshots as plain directories (no mounts, no root): an active snapshot's upper dir holds only
 * what the step wrote, as overlay's does, and a snapshot's files are its dir over its parents'.
 */
export class DirSnapshotter implements StepSnapshotter, LayerDiffer {
  readonly name = 'overlay';
  private readonly records = new Map<string, SnapshotInfo>();

  constructor(private readonly dir: string) {}

  async prepare(key: string, parent?: string): Promise<Mount[]> {
    if (this.records.has(key)) throw new Error(`fake snapshotter: ${key} exists`);
    await mkdir(this.upperDir(key), { recursive: true });
    this.records.set(key, {
      name: key,
      kind: 'active',
      ...(parent ? { parent } : {}),
      created: new Date().toISOString(),
    });
    return [{ type: 'bind', source: this.upperDir(key), destination: '/', options: ['rbind'] }];
  }

  async commit(name: string, key: string): Promise<void> {
    const active = this.records.get(key);
    if (active?.kind !== 'active') throw new Error(`fake snapshotter: ${key} is not active`);
    await rename(this.upperDir(key), this.upperDir(name));
    this.records.delete(key);
    this.records.set(name, { ...active, name, kind: 'committed' });
  }

  async remove(key: string): Promise<void> {
    if ([...this.records.values()].some((r) => r.parent === key))
      throw new Error(`fake snapshotter: ${key} has children`);
    this.records.delete(key);
    await rm(this.upperDir(key), { recursive: true, force: true });
  }

  async stat(key: string): Promise<SnapshotInfo | undefined> {
    return this.records.get(key);
  }

  /** Every snapshot, e.g. to see that a failed step left no active one behind. */
  all(): SnapshotInfo[] {
    return [...this.records.values()];
  }

  upperDir(key: string): string {
    return join(this.dir, key);
  }

  layerDirs(key: string): string[] {
    const dirs: string[] = [];
    for (let name: string | undefined = key; name !== undefined; name = this.records.get(name)?.parent)
      dirs.push(this.upperDir(name));
    return dirs;
  }

  writeLayer(key: string, store: ContentStore, options: WriteLayerOptions) {
    return writeLayer(this.upperDir(key), store, options);
  }

  async applyLayerAsSnapshot(...args: Parameters<LayerDiffer['applyLayerAsSnapshot']>): Promise<{ diffId: Digest }> {
    const [name, parent, layer, compression, options = {}] = args;
    await mkdir(this.upperDir(name), { recursive: true });
    const { diffId } = await applyLayer(layer, compression, this.upperDir(name));
    if (options.expectedDiffId !== undefined && diffId !== options.expectedDiffId) {
      await rm(this.upperDir(name), { recursive: true, force: true });
      throw new DigestMismatchError(`fake snapshotter: layer ${diffId}, expected ${options.expectedDiffId}`);
    }
    this.records.set(name, {
      name,
      kind: 'committed',
      ...(parent ? { parent } : {}),
      created: new Date().toISOString(),
    });
    return { diffId };
  }
}

/**
 * Runs a RUN step's `args` as a script over the step's rootfs directory instead of a container:
 * `write PATH TEXT` writes a file, `fail TEXT` prints TEXT to stderr and exits 3, `block` runs
 * until the request's signal aborts (then it was killed, as the sandbox reports it).
 */
export class ScriptExecutor implements Executor {
  /** The args of every command run, in order. */
  readonly runs: string[][] = [];
  private blocked: (() => void) | undefined;
  /** Resolves once a `block` command is running. */
  readonly blocking = new Promise<void>((resolve) => (this.blocked = resolve));

  async run(request: ContainerRequest): Promise<ContainerResult> {
    this.runs.push(request.args);
    const [verb, path = '', text = ''] = request.args;
    const rootfs = request.rootfs[0]!.source;
    switch (verb) {
      case 'write':
        await mkdir(join(rootfs, dirname(path)), { recursive: true });
        await writeFile(join(rootfs, path), text);
        return { exitCode: 0, signal: null };
      case 'fail':
        request.stderr?.write(`${path}\n`);
        return { exitCode: 3, signal: null };
      case 'block':
        this.blocked?.();
        await new Promise((resolve) => request.signal?.addEventListener('abort', resolve, { once: true }));
        return { exitCode: null, signal: 'SIGKILL' };
      default:
        throw new Error(`fake executor: unknown command ${JSON.stringify(request.args)}`);
    }
  }
}

/** A store root in a temp dir with the fakes, and solvers on it: each one a new build. */
export class SolverFixture {
  readonly snapshotter: DirSnapshotter;
  readonly executor = new ScriptExecutor();
  readonly blobs: ContentStore;
  /** Progress events of every build, in order. */
  readonly events: ProgressEvent[] = [];

  private constructor(readonly root: string) {
    this.snapshotter = new DirSnapshotter(join(root, 'snapshots'));
    this.blobs = new ContentStore(root);
  }

  static async create(): Promise<SolverFixture> {
    return new SolverFixture(await mkdtemp(join(tmpdir(), 'tcbuild-solver-')));
  }

  solver(options: Partial<SolverOptions> = {}): Solver {
    return new Solver({
      root: this.root,
      blobs: this.blobs,
      snapshotter: this.snapshotter,
      differ: this.snapshotter,
      executor: this.executor,
      progress: { emit: (event) => this.events.push(event) },
      noCache: false,
      sourceDateEpoch: undefined,
      compressionLevel: undefined,
      ...options,
    });
  }

  /** The names of the steps each kind of progress event was about, e.g. which were cached. */
  steps(kind: 'step-start' | 'step-cached'): string[] {
    return this.events.flatMap((e) => (e.kind === kind ? [e.name] : []));
  }

  /** A file of a solved vertex's filesystem, or null. */
  read(solved: Solved, path: string): string | null {
    const dirs = solved.snapshot ? this.snapshotter.layerDirs(solved.snapshot) : [];
    return new LayeredView(dirs).readFile(path)?.toString('utf8') ?? null;
  }

  remove(): Promise<void> {
    return rm(this.root, { recursive: true, force: true });
  }
}

export const AMD64: Platform = { os: 'linux', architecture: 'amd64' };
export const ARM64: Platform = { os: 'linux', architecture: 'arm64' };

function at(line: number, text: string, stage: string): StepDescription {
  return { file: 'Dockerfile', line, text, stage };
}

/** `RUN args` at Dockerfile:`line` of `stage`; fields of `rest` override the defaults. */
export function run(
  input: Vertex,
  args: string[],
  line = 2,
  rest: Partial<ExecVertex> & { stage?: string } = {},
): ExecVertex {
  const { stage = '0', ...fields } = rest;
  return {
    op: 'exec',
    input,
    args,
    env: ['PATH=/usr/bin:/bin'],
    cwd: '/',
    user: '',
    network: 'none',
    security: 'sandbox',
    platform: AMD64,
    mounts: [],
    description: at(line, `RUN ${args.join(' ')}`, stage),
    ...fields,
  };
}

/** `COPY --from=source / dest`. */
export function copy(input: Vertex, source: Vertex, dest: string, line = 2): CopyVertex {
  return {
    op: 'copy',
    input,
    source,
    sources: ['/'],
    dest,
    chown: undefined,
    chmod: undefined,
    unpack: false,
    link: false,
    parents: false,
    excludes: [],
    description: at(line, `COPY / ${dest}`, '0'),
  };
}

export const SCRATCH: Vertex = { op: 'scratch' };
