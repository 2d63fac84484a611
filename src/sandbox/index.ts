export type {
  ConsoleSize,
  ContainerRequest,
  ContainerResult,
  ContainerUser,
  Mount,
  NetworkMode,
  SandboxLimits,
  Ulimit,
} from './types.js';
export { runContainer } from './container.js';
export { ContainerSetupError } from './report.js';
export { resolveUser } from './user.js';
export { MOUNT_TARGETS } from './spec.js';
export { describeExit, formatBytes } from './exit-description.js';
export { parseAddHost } from './etc-files.js';
export { parseMemory, parseUlimit } from './flags.js';
