export type { ContainerRequest, ContainerResult, ContainerUser, Mount } from './types.js';
export { runContainer } from './container.js';
export { ContainerSetupError } from './report.js';
export { resolveUser } from './user.js';
export { MOUNT_TARGETS } from './spec.js';
