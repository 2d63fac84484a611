import { InvalidInputError } from '../errors.js';
import { Registry, type Credentials, type RegistryOptions } from '../registry/index.js';
import { normalizeAuthKey, removeCredentials, saveCredentials } from '../registry/docker-config.js';

export interface LoginOptions {
  registry?: RegistryOptions;
  /** The docker config.json to write; default $DOCKER_CONFIG/config.json or ~/.docker/config.json. */
  configPath?: string;
}

/** "localhost:5000", "https://index.docker.io/v1/" or nothing (Docker Hub) → the registry host. */
export function registryHost(server: string | undefined): string {
  const host = normalizeAuthKey(server ?? 'docker.io');
  if (host === '' || /[\s/]/.test(host))
    throw new InvalidInputError(`"${server}" is not a registry host`, {
      hint: 'e.g. tcbuild login registry.example.com',
    });
  return host;
}

/** Checks the credentials against the registry, then stores them as `docker login` does. */
export async function login(
  server: string | undefined,
  credentials: Credentials,
  opts: LoginOptions = {},
): Promise<string> {
  const host = registryHost(server);
  if (credentials.username === '' || credentials.password === '')
    throw new InvalidInputError('login needs a username and a password', {
      hint: 'pass --username and --password-stdin',
    });
  const registry = new Registry(opts.registry ?? {});
  try {
    await registry.checkLogin(host, credentials);
  } finally {
    await registry.close();
  }
  await saveCredentials(host, credentials, ...(opts.configPath ? [opts.configPath] : []));
  return host;
}

/** Forgets the stored credentials of a registry; false when there were none. */
export async function logout(server: string | undefined, opts: LoginOptions = {}): Promise<boolean> {
  return removeCredentials(registryHost(server), ...(opts.configPath ? [opts.configPath] : []));
}
