export { Registry, type RegistryOptions } from './registry.js';
export { pullToStore } from './pull.js';
export { RegistryError, UnauthorizedError } from './errors.js';
export { parseReference, formatReference, familiarName, type Reference } from './reference.js';
export type { Referrer } from './referrers.js';
export type { Credentials } from './docker-config.js';
