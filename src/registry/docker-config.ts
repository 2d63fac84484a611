import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../content/atomic-file.js';
import { TcbuildError, isErrno, messageOf } from '../errors.js';
import { helperErase, helperGet, helperStore } from './cred-helper.js';

export interface Credentials {
  username: string;
  password: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
}

/** The parts of ~/.docker/config.json tcbuild reads; everything else is kept as it is when writing. */
interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
  [other: string]: unknown;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['DOCKER_CONFIG'] ?? join(homedir(), '.docker'), 'config.json');
}

/** `https://index.docker.io/v1/` → `docker.io`, `http://localhost:5000/` → `localhost:5000`. */
export function normalizeAuthKey(key: string): string {
  const host = key
    .replace(/^[a-z]+:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** The server name docker uses in config.json and with credential helpers. */
function serverKey(registry: string): string {
  return registry === 'docker.io' ? 'https://index.docker.io/v1/' : registry;
}

function decodeEntry(entry: AuthEntry, key: string, path: string): Credentials | undefined {
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0)
      throw new TcbuildError(`the credentials for ${key} in ${path} are malformed`, {
        hint: `log in again with tcbuild login ${key}`,
      });
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined)
    return { username: entry.username, password: entry.password };
  return undefined;
}

async function readConfig(path: string): Promise<DockerConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return {};
    throw err;
  }
  try {
    return JSON.parse(text) as DockerConfigFile;
  } catch (err) {
    throw new TcbuildError(`cannot read ${path}: ${messageOf(err)}`, { hint: 'fix or remove the file' });
  }
}

function ownHelper(config: DockerConfigFile, registry: string): string | undefined {
  const want = normalizeAuthKey(registry);
  return Object.entries(config.credHelpers ?? {}).find(([key]) => normalizeAuthKey(key) === want)?.[1];
}

function helperFor(config: DockerConfigFile, registry: string): string | undefined {
  return ownHelper(config, registry) ?? config.credsStore;
}

function authKeysOf(config: DockerConfigFile, registry: string): string[] {
  const want = normalizeAuthKey(registry);
  return Object.keys(config.auths ?? {}).filter((key) => normalizeAuthKey(key) === want);
}

/**
 * The credentials for `registry`, as docker finds them: its credHelpers entry, else the inline
 * `auths` entry, else the credsStore helper.
 */
export async function loadCredentials(registry: string, path = dockerConfigPath()): Promise<Credentials | undefined> {
  const config = await readConfig(path);
  const own = ownHelper(config, registry);
  if (own) return helperGet(own, serverKey(registry));
  const key = authKeysOf(config, registry)[0];
  const inline = key !== undefined ? decodeEntry(config.auths![key]!, key, path) : undefined;
  if (inline) return inline;
  return config.credsStore ? helperGet(config.credsStore, serverKey(registry)) : undefined;
}

async function writeConfig(path: string, config: DockerConfigFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, `${JSON.stringify(config, null, '\t')}\n`, 0o600);
}

/** Stores credentials as `docker login` does: in the helper when one is configured, else inline in `auths`. */
export async function saveCredentials(
  registry: string,
  credentials: Credentials,
  path = dockerConfigPath(),
): Promise<void> {
  const config = await readConfig(path);
  const helper = helperFor(config, registry);
  const auths = { ...config.auths };
  for (const key of authKeysOf(config, registry)) delete auths[key];
  if (helper) {
    await helperStore(helper, serverKey(registry), credentials);
    auths[serverKey(registry)] = {};
  } else {
    auths[serverKey(registry)] = {
      auth: Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64'),
    };
  }
  await writeConfig(path, { ...config, auths });
}

/** Forgets the credentials for `registry`; returns false when there were none. */
export async function removeCredentials(registry: string, path = dockerConfigPath()): Promise<boolean> {
  const config = await readConfig(path);
  const keys = authKeysOf(config, registry);
  const helper = helperFor(config, registry);
  if (helper) await helperErase(helper, serverKey(registry));
  if (keys.length === 0) return helper !== undefined;
  const auths = { ...config.auths };
  for (const key of keys) delete auths[key];
  await writeConfig(path, { ...config, auths });
  return true;
}
