/** tcbuild as a library: the same verbs the CLI offers. */
export { build, type BuildOptions, type BuildResult } from './api/build.js';
export { parseGitUrl, type GitUrl } from './frontend/git-url.js';
export { push, pull, type TransferOptions } from './api/transfer.js';
export { copy, type CopyOptions } from './api/copy.js';
export { save, load } from './api/archive.js';
export { inspectRemote, rawManifest, digest, listTags, catalog, deleteRemote, referrers } from './api/remote.js';
export { login, logout } from './api/login.js';
export { images, inspect, rmi, tag, type ImageSummary, type InspectResult } from './api/images.js';
export { prune, type PruneResult } from './api/prune.js';
export { defaultRoot } from './root.js';
export { Registry, type RegistryOptions, parseReference, formatReference, type Reference } from './registry/index.js';
export type { Image, ImageIndex, Layer, ImageOrIndex } from './image/image.js';
export type { Descriptor, Manifest, Index, ImageConfig, Platform } from './image/types.js';
export { TcbuildError, NotFoundError, DigestMismatchError, InvalidInputError } from './errors.js';
export { PlainProgress, type Progress, type ProgressEvent } from './progress/progress.js';
