import type { Dispatcher } from 'undici';
import type { HostTls } from './tls.js';

const KEEP_ALIVE_MS = 30_000;

function proxyConfigured(env: NodeJS.ProcessEnv): boolean {
  return ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY'].some((name) => env[name]);
}

/**
 * One connection pool for one registry host, with that host's TLS trust (certs.d) and the
 * environment's HTTP(S)_PROXY / NO_PROXY when set.
 */
export async function createDispatcher(
  tls: HostTls,
  verify: boolean,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Dispatcher> {
  // Loaded on first use: builds that never talk to a registry start without it.
  const { Agent, EnvHttpProxyAgent } = await import('undici');
  const connect = { ...tls, rejectUnauthorized: verify };
  if (!proxyConfigured(env)) return new Agent({ connect, keepAliveTimeout: KEEP_ALIVE_MS });
  return new EnvHttpProxyAgent({ connect, requestTls: connect, keepAliveTimeout: KEEP_ALIVE_MS });
}
