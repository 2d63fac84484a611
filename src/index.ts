/** tcbuild as a library: the same verbs the CLI offers (docs/library.md). */
export {
  build,
  type BuildOptions,
  type BuildOutput,
  type BuildResult,
  type CheckResult,
  type PlatformImage,
} from './api/build.js';
export type { BuildCheckWarning } from './frontend/checks/build-checks.js';
export type { RuleName } from './frontend/checks/rules.js';
export { parseGitUrl, type GitUrl } from './frontend/git-url.js';
export { run, type RunOptions, type RunResult } from './api/run.js';
export { push, pull, type TransferOptions } from './api/transfer.js';
export { copy, type CopyOptions } from './api/copy.js';
export { save, load, type ArchiveOptions } from './api/archive.js';
export {
  manifestCreate,
  manifestAdd,
  manifestAnnotate,
  manifestInspect,
  manifestPush,
  manifestRm,
  type ManifestOptions,
  type PlatformAnnotations,
} from './api/manifest.js';
export {
  inspectRemote,
  rawManifest,
  digest,
  listTags,
  catalog,
  deleteRemote,
  referrers,
  type RemoteOptions,
  type RemoteInspectResult,
} from './api/remote.js';
export { login, logout, type LoginOptions } from './api/login.js';
export { images, inspect, rmi, tag, type ImageSummary, type InspectResult } from './api/images.js';
export { prune, usage, type PruneFilters, type PruneOptions, type PruneResult, type Usage } from './api/prune.js';
export { defaultRoot, type StoreOptions } from './root.js';
export { Registry, type RegistryOptions, parseReference, formatReference, type Reference } from './registry/index.js';
export type { Image, ImageIndex, Layer, ImageOrIndex } from './image/image.js';
export type { Descriptor, Manifest, Index, ImageConfig, Platform } from './image/types.js';
export {
  TcbuildError,
  NotFoundError,
  AlreadyExistsError,
  DigestMismatchError,
  InvalidInputError,
  FailedPreconditionError,
} from './errors.js';
export { PlainProgress, type Progress, type ProgressEvent } from './progress/progress.js';
