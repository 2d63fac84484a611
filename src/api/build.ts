import { readFile, stat } from 'node:fs/promises';
import { resolve as resolvePath, join, relative } from 'node:path';
import { cannotRead, InvalidInputError, TcbuildError, isErrno, messageOf } from '../errors.js';
import { writeImage, writeIndex } from '../export/store.js';
import { requireEntitlements, type Entitlement } from '../graph/entitlements.js';
import { allVertices, formatGraph } from '../graph/walk.js';
import { requireEmulation } from '../sandbox/binfmt.js';
import { compressionLevel, LayeredView } from '../snapshot/index.js';
import { parseAddHost } from '../sandbox/etc-files.js';
import { BuildChecks, parseCheckConfig, type BuildCheckWarning } from '../frontend/checks/build-checks.js';
import { convert } from '../frontend/convert.js';
import { DockerfileError } from '../frontend/errors.js';
import { toStages } from '../frontend/instructions.js';
import { KEEP_GIT_DIR_ARG, type GitUrl } from '../frontend/git-url.js';
import type { GitVertex } from '../graph/vertex.js';
import { parseDockerfile } from '../frontend/parse.js';
import type { Digest } from '../image/digest.js';
import { formatPlatform, hostPlatform, parsePlatform } from '../image/platform.js';
import type { LayerCompression } from '../image/media-types.js';
import type { SnapshotterName } from '../snapshot/index.js';
import type { Descriptor, ImageConfig, Platform } from '../image/types.js';
import { silentProgress, type Progress } from '../progress/progress.js';
import type { RegistryOptions } from '../registry/index.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { openRoot, type StoreRoot, type StoreOptions } from '../root.js';
import { resolveGitSource } from '../solver/git-source.js';
import type { BuildSession, SecretSource } from '../solver/run-mounts.js';
import { openBuildContexts, type BuildContexts } from './build-context.js';
import { sandboxExecutor } from '../solver/executor.js';
import { Solver } from '../solver/solver.js';
import { storeImageOrIndex } from '../content/store-image.js';
import { withCreatedTimes } from '../image/history-times.js';
import { collectGarbage } from './prune.js';
import { LazyRegistry, localOrPulledImage } from './resolve-image.js';
import type { NetworkMode, SandboxLimits } from '../sandbox/index.js';

export interface BuildOptions extends StoreOptions {
  /**
   * The build context: a directory, a tarball (plain, gzip or zstd), or a git URL as BuildKit
   * reads one (`https://host/repo.git#ref:subdir`, `git@host:repo.git`, `ssh://…`, `git://…`,
   * `?branch=&tag=&subdir=&checksum=…`); a git context's Dockerfile is read from it unless `file` is given.
   */
  context: string;
  /**
   * `--build-context NAME=DIR|GIT-URL|docker-image://REF`: stand-ins for stages and images in FROM,
   * COPY --from and RUN --mount from=.
   */
  buildContexts?: Record<string, string>;
  /**
   * `--secret id=ID,src=FILE|env=VAR`: what RUN --mount=type=secret reads, and git sources'
   * GIT_AUTH_TOKEN / GIT_AUTH_HEADER (also `.HOST`); never stored.
   */
  secrets?: Record<string, SecretSource>;
  /** `--ssh ID=SOCKET`: agent sockets RUN --mount=type=ssh forwards (`default`: ssh git sources' too); never stored. */
  ssh?: Record<string, string>;
  /**
   * The Dockerfile's path, relative to the working directory as with docker (default: CONTEXT/Dockerfile); ignored when
   * `dockerfile` text is given.
   */
  file?: string;
  /** The Dockerfile's text (e.g. read from stdin for `-f -`). */
  dockerfile?: string;
  tags?: string[];
  buildArgs?: Record<string, string>;
  target?: string;
  /** Target platforms, comma-separated (`linux/amd64,linux/arm64`); default: this host's. */
  platform?: string;
  noCache?: boolean;
  /** Stages (names or indexes) to build without the cache. */
  noCacheFilter?: string[];
  /** Always resolve base images from their registry, not the local store. */
  pull?: boolean;
  push?: boolean;
  progress?: Progress;
  registry?: RegistryOptions;
  /** SOURCE_DATE_EPOCH: clamps timestamps in layers and config for reproducible digests. */
  sourceDateEpoch?: number;
  /** Layer compression (default gzip) and its level (gzip 0-9, zstd 1-22). */
  compression?: LayerCompression;
  /** Default: $TCBUILD_SNAPSHOTTER, else overlay where it can mount, else native. */
  snapshotter?: SnapshotterName;
  compressionLevel?: number;
  /** Labels added to the image config (`--label`). */
  labels?: Record<string, string>;
  /** Called with the build graph (`formatGraph`) before it runs: `--print-graph`. */
  onGraph?: (text: string) => void;
  /** Extra outputs besides the local store. */
  outputs?: BuildOutput[];
  /** Limits and /etc/hosts entries for every RUN (`--memory`, `--cpus`, `--pids-limit`, `--add-host`, `--ulimit`). */
  sandbox?: SandboxLimits;
  /**
   * The network of a RUN without --network (`--network`): 'private' (the default: a namespace of
   * its own with outbound NAT), 'none', or 'host' (which grants network.host, as buildx does).
   */
  network?: NetworkMode;
  /** `--allow`: what RUN steps may ask for beyond the sandbox (RUN --network=host, --security=insecure). */
  allow?: Entitlement[];
  /** Aborting it stops the build: no further step starts, a running RUN is killed; build() rejects (CancelledError). */
  signal?: AbortSignal;
  /**
   * `--check` (`--call check`): run the build checks on every stage (those `target` needs, when
   * given) and return their warnings instead of building. Base images are still resolved (pulled
   * when not stored), as BuildKit does.
   */
  check?: boolean;
}

/**
 * `-o`: the final filesystem (type=local, one folder per platform), or the image as an oci-archive or docker-archive
 * tarball.
 */
export type BuildOutput = { type: 'local' | 'oci' | 'docker'; dest: string };

export interface PlatformImage {
  platform: Platform;
  /** The image manifest's descriptor. */
  descriptor: Descriptor;
  configDigest: Digest;
  config: ImageConfig;
}

export interface BuildResult {
  /**
   * What the names point at: the manifest of a one-platform build, else an OCI index (its digest is what `--iidfile`
   * holds, as the registry sees it).
   */
  descriptor: Descriptor;
  digest: Digest;
  images: PlatformImage[];
  tags: string[];
  /** The build checks' warnings, by line (printed as they are found too). */
  warnings: BuildCheckWarning[];
}

/** What `build({ check: true })` gives: the warnings of every stage, by line. */
export interface CheckResult {
  warnings: BuildCheckWarning[];
  /** Why the Dockerfile does not convert, when it does not (the warnings found before it still count). */
  error?: TcbuildError;
}

/** Builds a Dockerfile into the local store (tagging it), and pushes it when asked; with `check`, only checks it. */
export function build(opts: BuildOptions & { check: true }): Promise<CheckResult>;
export function build(opts: BuildOptions): Promise<BuildResult>;
export async function build(opts: BuildOptions): Promise<BuildResult | CheckResult> {
  await refuseBadOptions(opts);
  const store = await openRoot(opts.root, opts.snapshotter !== undefined ? { snapshotter: opts.snapshotter } : {});
  const session: BuildSession = {
    secrets: new Map(Object.entries(opts.secrets ?? {})),
    ssh: new Map(Object.entries(opts.ssh ?? {})),
  };
  const keepGitDir = /^(1|t|true)$/i.test(opts.buildArgs?.[KEEP_GIT_DIR_ARG] ?? '');
  const contexts = await openBuildContexts({
    context: opts.context,
    dockerfilePath: opts.file !== undefined && opts.dockerfile === undefined ? resolvePath(opts.file) : undefined,
    buildContexts: opts.buildContexts,
    tmpDir: join(store.root, 'tmp'),
    git: { root: store.root, session, keepGitDir },
  });
  try {
    return await buildInContexts(opts, store, contexts, session);
  } finally {
    await contexts.release();
  }
}

/** Options that would fail only once a step uses them fail before anything runs, as with buildx. */
async function refuseBadOptions(opts: BuildOptions): Promise<void> {
  compressionLevel(opts.compression ?? 'gzip', opts.compressionLevel);
  for (const entry of opts.sandbox?.addHosts ?? []) parseAddHost(entry);
  for (const [id, source] of Object.entries(opts.secrets ?? {})) {
    if (!('file' in source)) continue;
    const st = await stat(source.file).catch((err: unknown) => {
      throw cannotRead(source.file, err);
    });
    if (!st.isFile()) throw new InvalidInputError(`secret "${id}": ${source.file} is not a file`);
  }
  for (const [id, socket] of Object.entries(opts.ssh ?? {})) {
    const st = await stat(socket).catch((err: unknown) => {
      throw cannotRead(socket, err);
    });
    if (!st.isSocket()) throw new InvalidInputError(`--ssh ${id}: ${socket} is not an ssh agent socket`);
  }
}

async function buildInContexts(
  opts: BuildOptions,
  store: StoreRoot,
  contexts: BuildContexts,
  session: BuildSession,
): Promise<BuildResult | CheckResult> {
  const started = Date.now();
  const progress = opts.progress ?? silentProgress;
  const dockerfilePath = opts.file !== undefined ? resolvePath(opts.file) : contexts.defaultDockerfile;
  const fileName = opts.file === undefined ? contexts.defaultDockerfileName : undefined;
  const dockerfileName = opts.dockerfile !== undefined ? 'Dockerfile' : (fileName ?? displayPath(dockerfilePath));
  const text = opts.dockerfile ?? (await readDockerfile(dockerfilePath, dockerfileName));
  const parsed = parseDockerfile(text, dockerfileName);
  if (
    parsed.syntax !== undefined &&
    !/^(docker\.io\/)?docker\/dockerfile(-upstream)?:1([.\d]*)?(-labs)?(@sha256:[a-f0-9]{64})?$/.test(parsed.syntax)
  ) {
    throw new TcbuildError(`${dockerfileName}: unsupported "# syntax=${parsed.syntax}" directive`, {
      hint: 'tcbuild implements the docker/dockerfile:1 syntax itself; remove the line or use docker/dockerfile:1',
    });
  }
  const stages = toStages(parsed);
  const config = checkConfig(opts.buildArgs, parsed.check, dockerfileName);
  const checks = new BuildChecks(dockerfileName, config, (warning) => {
    if (!opts.check) progress.emit({ kind: 'check', ...warning });
  });
  const tags = (opts.tags ?? []).map((t) => parseReference(t));
  if (opts.push && !opts.check && tags.length === 0) {
    throw new TcbuildError('--push needs at least one -t NAME:TAG to push to');
  }

  const platforms = targetPlatforms(opts.platform);
  // Once per build: every platform's ADD of a ref takes the same commit.
  const gitCommits = new Map<string, Promise<GitVertex>>();
  const resolvedGit = (url: GitUrl, keepGitDir: boolean): Promise<GitVertex> => {
    const key = JSON.stringify([url, keepGitDir]);
    let found = gitCommits.get(key);
    if (!found) gitCommits.set(key, (found = resolveGitSource(url, keepGitDir, { root: store.root, session })));
    return found;
  };
  const registry = new LazyRegistry({ progress, ...opts.registry });
  try {
    const converting = Promise.all(
      platforms.map((platform) =>
        convert(stages, {
          buildArgs: new Map(Object.entries(opts.buildArgs ?? {})),
          target: opts.target,
          platform,
          buildPlatform: hostPlatform(),
          context: contexts.main,
          namedContexts: contexts.named,
          sourceDateEpoch: opts.sourceDateEpoch,
          network: opts.network ?? 'private',
          checks,
          // As BuildKit's lint: every stage, unless a target names which.
          allStages: (opts.check ?? false) && opts.target === undefined,
          warn: platform === platforms[0] ? (text) => progress.emit({ kind: 'warning', text }) : () => undefined,
          resolveGit: async (url, keepGitDir, at) => {
            try {
              return await resolvedGit(url, keepGitDir);
            } catch (err) {
              if (!(err instanceof TcbuildError)) throw err;
              const hint = err.hint ? { hint: err.hint } : {};
              throw new DockerfileError(at.file, at.line, err.message, { cause: err, ...hint });
            }
          },
          resolveImage: async (name, p, at) => {
            try {
              const { ref, image } = await localOrPulledImage(store.layout, registry, name, p, opts.pull ?? false);
              return {
                vertex: { op: 'image', ref: formatReference(ref), manifest: image.descriptor.digest, platform: p },
                config: await image.config(),
              };
            } catch (err) {
              if (!(err instanceof TcbuildError)) throw err;
              throw new DockerfileError(at.file, at.line, `image "${name}": ${err.message}`, {
                cause: err,
                ...(err.hint ? { hint: err.hint } : {}),
              });
            }
          },
        }),
      ),
    );
    // As BuildKit's lint, a Dockerfile that does not convert still has its warnings, beside the error.
    if (opts.check) {
      return converting.then(
        () => ({ warnings: checks.sorted() }),
        (err: unknown) => {
          if (!(err instanceof TcbuildError)) throw err;
          return { warnings: checks.sorted(), error: err };
        },
      );
    }
    const plans = await converting;
    const violation = checks.violation();
    if (violation) throw violation;
    opts.onGraph?.(formatGraph(plans.map((p) => p.vertex)));
    const vertices = allVertices(plans.map((p) => p.vertex));
    requireEntitlements(
      vertices,
      new Set([...(opts.allow ?? []), ...(opts.network === 'host' ? (['network.host'] as const) : [])]),
    );
    await requireEmulation(vertices.flatMap((v) => (v.op === 'exec' ? [v.platform] : [])));
    const solver = new Solver({
      root: store.root,
      blobs: store.layout.blobs,
      snapshotter: store.snapshotter,
      differ: store.snapshotter,
      executor: sandboxExecutor,
      ...(opts.signal ? { signal: opts.signal } : {}),
      progress,
      noCache: opts.noCache ?? false,
      noCacheStages: new Set((opts.noCacheFilter ?? []).map((stage) => stage.toLowerCase())),
      sourceDateEpoch: opts.sourceDateEpoch,
      ...(opts.compression !== undefined ? { compression: opts.compression } : {}),
      compressionLevel: opts.compressionLevel,
      ...(opts.sandbox ? { sandbox: opts.sandbox } : {}),
      session,
    });
    const solvedPlans = await Promise.all(
      plans.map(async (plan) => ({ plan, solved: await solver.solve(plan.vertex) })),
    );
    const images: PlatformImage[] = [];
    for (const [i, { plan, solved }] of solvedPlans.entries()) {
      const labels = { ...plan.config.config.Labels, ...opts.labels };
      const config = withCreatedTimes(
        {
          ...plan.config,
          config: { ...plan.config.config, ...(Object.keys(labels).length ? { Labels: labels } : {}) },
          rootfs: { type: 'layers', diff_ids: solved.layers.map((l) => l.diffId) },
        },
        solved.layers.map((l) => l.created),
      );
      const written = await writeImage(store.layout, config, solved.layers);
      images.push({
        platform: platforms[i]!,
        descriptor: written.manifest,
        configDigest: written.config.digest,
        config,
      });
    }
    const descriptor =
      images.length === 1
        ? images[0]!.descriptor
        : await writeIndex(
            store.layout,
            images.map((i) => i.descriptor),
          );
    for (const ref of tags) await store.layout.tag(formatReference(ref), descriptor, ref.tag);
    const source = await storeImageOrIndex(store.layout.blobs, descriptor);
    const built = { source, what: 'the built image', names: tags };
    // Sinks load only when asked for: most builds have no -o and no --push.
    const needsSinks = opts.push || opts.outputs?.some((o) => o.type !== 'local');
    const sinks = needsSinks ? await import('./image-location.js') : undefined;
    for (const output of opts.outputs ?? []) {
      progress.emit({ kind: 'message', text: `exporting ${output.type} output to ${output.dest}` });
      if (output.type === 'local') {
        const { exportRootfs } = await import('../export/local.js');
        for (const [i, { solved }] of solvedPlans.entries()) {
          const dest =
            platforms.length === 1
              ? output.dest
              : join(output.dest, formatPlatform(platforms[i]!).replaceAll('/', '_'));
          await exportRootfs(
            new LayeredView(solved.snapshot ? store.snapshotter.layerDirs(solved.snapshot) : []),
            dest,
          );
        }
        continue;
      }
      const kind = output.type === 'oci' ? 'oci-archive' : 'docker-archive';
      const name = kind === 'oci-archive' ? tags[0]?.tag : undefined;
      await sinks!.writeLocation({ kind, path: output.dest, name }, [built], registry);
    }
    for (const ref of opts.push ? tags : []) {
      progress.emit({ kind: 'message', text: `pushing ${formatReference(ref)}` });
      await sinks!.writeLocation({ kind: 'registry', ref }, [built], registry);
    }
    await collectGarbage({ root: store.root, keepSince: started }).catch((err: unknown) =>
      progress.emit({ kind: 'warning', text: `build cache GC: ${messageOf(err)}` }),
    );
    const names = tags.map(formatReference);
    return { descriptor, digest: descriptor.digest, images, tags: names, warnings: checks.sorted() };
  } finally {
    await registry.close();
  }
}

/** The BUILDKIT_DOCKERFILE_CHECK build-arg when given, which BuildKit prefers, else the `# check=` directive. */
function checkConfig(buildArgs: Record<string, string> | undefined, directive: string | undefined, file: string) {
  const arg = buildArgs?.['BUILDKIT_DOCKERFILE_CHECK'];
  if (arg !== undefined) return parseCheckConfig(arg, '--build-arg BUILDKIT_DOCKERFILE_CHECK');
  return parseCheckConfig(directive, `${file}: the "# check=" directive`);
}

/** `--platform a,b`: each os/arch[/variant] once, in the order given; the host's when none. */
function targetPlatforms(spec: string | undefined): Platform[] {
  if (!spec) return [hostPlatform()];
  const unique = new Map(
    spec
      .split(',')
      .map((p) => parsePlatform(p))
      .map((p) => [formatPlatform(p), p] as const),
  );
  return [...unique.values()];
}

async function readDockerfile(path: string, name: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT'))
      throw new TcbuildError(`Dockerfile not found: ${name}`, {
        hint: 'give its path with -f PATH, or put a Dockerfile in the context directory',
      });
    throw err;
  }
}

function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel || join('.', path);
}
