import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TcbuildError, isErrno, messageOf } from '../errors.js';

export interface Credentials {
  username: string;
  password: string;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env['DOCKER_CONFIG'] ?? join(homedir(), '.docker'), 'config.json');
}

/** `https://index.docker.io/v1/` → `docker.io`, `http://localhost:5000/` → `localhost:5000`. */
export function normalizeAuthKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '').toLowerCase();
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
}

function decodeEntry(entry: { auth?: string; username?: string; password?: string }, key: string, path: string): Credentials | undefined {
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new TcbuildError(`the credentials for ${key} in ${path} are malformed`, { hint: `log in again with tcbuild login ${key}` });
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return undefined;
}

/** The Basic credentials stored for `registry` in the docker config's `auths`, if any. */
export async function loadCredentials(registry: string, path = dockerConfigPath()): Promise<Credentials | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
  let config: DockerConfigFile;
  try {
    config = JSON.parse(text) as DockerConfigFile;
  } catch (err) {
    throw new TcbuildError(`cannot read ${path}: ${messageOf(err)}`, { hint: 'fix or remove the file' });
  }
  const want = normalizeAuthKey(registry);
  for (const [key, entry] of Object.entries(config.auths ?? {})) {
    if (normalizeAuthKey(key) === want) return decodeEntry(entry, key, path);
  }
  return undefined;
}
