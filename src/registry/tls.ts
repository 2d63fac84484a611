import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { TcbuildError, isErrno } from '../errors.js';

export const DEFAULT_CERTS_DIR = '/etc/docker/certs.d';

/** Docker's certs.d root; `TCBUILD_CERTS_DIR` moves it (tests use a temp dir). */
export function certsDir(env: NodeJS.ProcessEnv = process.env): string {
  return env['TCBUILD_CERTS_DIR'] || DEFAULT_CERTS_DIR;
}

export interface HostTls {
  /** Trusted roots: the defaults plus the host's certs.d CAs; undefined when certs.d adds none. */
  ca?: string[];
  cert?: string;
  key?: string;
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return [];
    throw err;
  }
}

async function extraCaFromEnv(env: NodeJS.ProcessEnv): Promise<string[]> {
  const path = env['NODE_EXTRA_CA_CERTS'];
  return path ? [await readFile(path, 'utf8').catch(() => '')].filter(Boolean) : [];
}

/**
 * What certs.d/HOST[:PORT]/ holds, by Docker's convention: every `*.crt` is a CA to trust for
 * that host; a `NAME.cert` with its `NAME.key` is the client certificate to present.
 */
export async function hostTls(
  registry: string,
  root = certsDir(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<HostTls> {
  const dir = join(root, registry);
  const files = await listDir(dir);
  const cas = await Promise.all(files.filter((f) => f.endsWith('.crt')).map((f) => readFile(join(dir, f), 'utf8')));
  const tls: HostTls = {};
  if (cas.length > 0) tls.ca = [...rootCertificates, ...(await extraCaFromEnv(env)), ...cas];
  const cert = files.find((f) => f.endsWith('.cert'));
  if (cert) {
    const key = `${cert.slice(0, -'.cert'.length)}.key`;
    if (!files.includes(key)) {
      throw new TcbuildError(`${join(dir, cert)} is a client certificate without its key`, {
        hint: `put the key next to it as ${join(dir, key)}`,
      });
    }
    tls.cert = await readFile(join(dir, cert), 'utf8');
    tls.key = await readFile(join(dir, key), 'utf8');
  }
  return tls;
}
