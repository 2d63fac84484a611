import type { ContextSource, GitVertex, Vertex } from '../graph/vertex.js';
import type { ImageConfig, Platform } from '../image/types.js';
import type { BuildChecks } from './checks/build-checks.js';
import { Conversion } from './conversion.js';
import { PROXY_ARGS } from './dispatch-run.js';
import { KEEP_GIT_DIR_ARG, type GitUrl } from './git-url.js';
import type { DockerfileStages } from './instructions.js';

/** Build-args BuildKit reads without an ARG: never "not consumed". */
const BUILDKIT_ARGS = [...PROXY_ARGS, 'BUILDKIT_DOCKERFILE_CHECK', KEEP_GIT_DIR_ARG];

export type NamedContext = { kind: 'dir'; source: ContextSource } | { kind: 'image'; ref: string };

export interface BaseImage {
  vertex: Vertex;
  config: ImageConfig;
}

export interface ConvertOptions {
  buildArgs: ReadonlyMap<string, string>;
  target: string | undefined;
  platform: Platform;
  buildPlatform: Platform;
  context: ContextSource;
  /**
   * `--build-context NAME=…`: they take the place of a stage or image of that name in FROM, COPY --from and RUN --mount
   * from=.
   */
  namedContexts?: ReadonlyMap<string, NamedContext>;
  /** Resolves an ADD <git URL>'s ref to a commit (git ls-remote); without it ADD of a git URL is refused. */
  resolveGit?(url: GitUrl, keepGitDir: boolean, at: { file: string; line: number }): Promise<GitVertex>;
  /** Resolves a FROM or COPY --from image for a platform (local store first, then the registry). */
  resolveImage(ref: string, platform: Platform, at: { file: string; line: number }): Promise<BaseImage>;
  /** SOURCE_DATE_EPOCH in seconds, for `created` fields. */
  sourceDateEpoch: number | undefined;
  /** The network of a RUN without --network (`build --network`). */
  network: 'private' | 'host' | 'none';
  warn(message: string): void;
  /** Where the build checks report; without it they run unheard. */
  checks?: BuildChecks;
  /** Convert every stage, not only those the target needs (`--check` judges them all, as BuildKit's lint). */
  allStages?: boolean;
}

/** What the solver builds and how the image config around its layers reads. */
export interface BuildPlan {
  vertex: Vertex;
  /** The image config without rootfs (the solver knows the layers); history covers every layer. */
  config: Omit<ImageConfig, 'rootfs'>;
  baseDiffIds: string[];
}

/**
 * Lowers typed stages to a build graph for one platform, tracking the image config as BuildKit's dockerfile2llb does.
 */
export async function convert(parsed: DockerfileStages, opts: ConvertOptions): Promise<BuildPlan> {
  const conversion = new Conversion(parsed, opts);
  const targetStage = conversion.targetStage();
  if (opts.allStages) for (const stage of parsed.stages) await conversion.buildStage(stage);
  const target = await conversion.buildStage(targetStage);
  for (const name of opts.buildArgs.keys()) {
    if (!conversion.usedArgs.has(name) && !BUILDKIT_ARGS.includes(name) && !conversion.platformArgs.has(name)) {
      opts.warn(`build-arg "${name}" was given but not consumed by any ARG in the Dockerfile`);
    }
  }
  const config: Omit<ImageConfig, 'rootfs'> = {
    ...(conversion.created ? { created: conversion.created } : {}),
    architecture: target.platform.architecture,
    os: target.platform.os,
    ...(target.platform.variant ? { variant: target.platform.variant } : {}),
    ...(target.author ? { author: target.author } : {}),
    config: target.config,
    history: target.history,
  };
  return { vertex: target.vertex, config, baseDiffIds: target.baseDiffIds };
}
