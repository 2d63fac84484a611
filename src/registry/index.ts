export { Registry, type RegistryOptions } from './registry.js';
export { copyToStore, pullToStore } from './pull.js';
export { RegistryError, UnauthorizedError } from './errors.js';
export { parseReference, formatReference, familiarName, type Reference } from './reference.js';
export { selectPlatform } from './platform-select.js';
export type { Referrer } from './referrers.js';
export type { Credentials } from './docker-config.js';
