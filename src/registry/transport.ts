import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { TcbuildError, messageOf } from '../errors.js';
import { Authenticator, basicHeader, type Token, type TokenRequest } from './auth.js';
import type { Credentials } from './docker-config.js';
import { RegistryError, UnauthorizedError, responseError } from './errors.js';
import { readLimited } from '../stream/read-limited.js';
import { certsDir } from './tls.js';
import {
  DEFAULT_RETRY,
  isRetryableError,
  isRetryableStatus,
  parseRetryAfter,
  withRetry,
  type RetryPolicy,
} from './retry.js';

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
export type Headers = Record<string, string | string[] | undefined>;

export interface RegistryRequest {
  method: Method;
  /** A path on the registry ("/v2/…", may carry a query) or an absolute URL (an upload Location). */
  path: string;
  /** Bearer token scopes the request needs, e.g. "repository:team/app:pull". */
  scopes: string[];
  /** What the request is about, for error messages: "manifest localhost:5000/app:1". */
  what: string;
  headers?: Record<string, string>;
  /** A function for streams, so that a retry can open the content again. */
  body?: Buffer | (() => Promise<Readable>);
  /** Statuses that count as success; any other becomes an error. */
  expect: number[];
  /** false for a request that must not be repeated on its own (an upload PUT): its caller retries. */
  retry?: boolean;
}

export interface RegistryResponse {
  status: number;
  headers: Headers;
  body: Dispatcher.ResponseData['body'];
  /** Where the response came from, after redirects. */
  url: URL;
}

export interface TransportOptions {
  /** The connection pool for this host (its TLS trust, the proxy). */
  agent: Dispatcher;
  /** --tls-verify=false: any host may be spoken to over plain HTTP. */
  insecure: boolean;
  /** --insecure-registry: hosts spoken to over plain HTTP. */
  plainHttpHosts: readonly string[];
  credentials: Credentials | undefined;
  retry?: RetryPolicy;
}

const MAX_REDIRECTS = 5;
/** Error bodies and token responses: small JSON. */
const MAX_TEXT_BODY = 64 * 1024;

/** Docker Hub's API lives on another host than its name. */
function apiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

export function isLoopbackHost(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.replace(/:\d+$/, '');
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function isCertificateError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/.test(code);
}

export function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A URL for a message or a log: no userinfo, no query (upload states, signed storage URLs). */
export function displayUrl(url: URL | string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '(an invalid URL)';
  }
  return `${parsed.origin}${parsed.pathname}`;
}

/** An Authorization header and the one origin (scheme, host, port) it may be sent to. */
interface BoundCredentials {
  header: string;
  origin: string;
}

/**
 * Speaks HTTP to one registry host: finds its scheme (https, or http where allowed), authenticates
 * (anonymous, Basic or Bearer via the challenge), retries what is worth retrying, and turns
 * failures into errors for people. Every URL the server hands us (an upload Location, a redirect,
 * a Link, a token realm) is followed, but the registry's credentials go only to its own origin,
 * and never again in an exchange once a redirect has left it.
 */
export class Transport {
  private readonly auth: Authenticator;
  readonly retryPolicy: RetryPolicy;
  private origin: Promise<string> | undefined;

  constructor(
    readonly registry: string,
    private readonly opts: TransportOptions,
  ) {
    this.retryPolicy = opts.retry ?? DEFAULT_RETRY;
    this.auth = new Authenticator(registry, opts.credentials, (request) => this.fetchToken(request));
  }

  async request(req: RegistryRequest): Promise<RegistryResponse> {
    const origin = await this.resolveOrigin();
    const url = serverUrl(req.path, origin, req.what);
    const ownOrigin = url.origin === origin;
    const credentials = async (): Promise<BoundCredentials | undefined> => {
      const authorization = ownOrigin ? await this.auth.authorization(req.scopes) : undefined;
      return authorization === undefined ? undefined : { header: authorization, origin };
    };
    const attempt = async (): Promise<RegistryResponse> => {
      const sent = await credentials();
      let res = await this.send(req, url, sent);
      // Only the registry itself may say how to authenticate to it: not a host it redirected or sent us to.
      if (
        res.status === 401 &&
        res.url.origin === origin &&
        this.auth.accept(res.headers['www-authenticate'], sent?.header)
      ) {
        await res.body.dump();
        res = await this.send(req, url, await credentials());
      }
      if (req.expect.includes(res.status)) return res;
      if (res.status === 401 && res.url.origin !== origin) {
        await res.body.dump();
        throw new UnauthorizedError(
          `${displayUrl(res.url)}, where ${this.registry} sent ${req.what}, asks for credentials; tcbuild sends the ` +
            `credentials of ${this.registry} only to ${origin}`,
          {
            hint:
              `the registry is misconfigured (its upload or storage URLs should be on ${origin}, or need no ` +
              `credentials); report it to its operator`,
          },
        );
      }
      throw await this.failure(req, res);
    };
    if (req.retry === false) return attempt();
    try {
      return await withRetry(this.retryPolicy, attempt);
    } catch (err) {
      throw err instanceof RegistryError ? err.spent() : err;
    }
  }

  /** https, or http for hosts named plain-HTTP, or — loopback or insecure — when TLS fails to connect. */
  private resolveOrigin(): Promise<string> {
    this.origin ??= this.ping().catch((err: unknown) => {
      this.origin = undefined;
      throw err;
    });
    return this.origin;
  }

  private async ping(): Promise<string> {
    const host = apiHost(this.registry);
    const schemes = this.opts.plainHttpHosts.includes(this.registry)
      ? ['http']
      : this.mayUsePlainHttp(this.registry)
        ? ['https', 'http']
        : ['https'];
    let failure: { origin: string; error: unknown } | undefined;
    for (const [i, scheme] of schemes.entries()) {
      const origin = new URL(`${scheme}://${host}`).origin;
      const req: RegistryRequest = {
        method: 'GET',
        path: '/v2/',
        scopes: [],
        what: `the registry API at ${origin}/v2/`,
        expect: [],
      };
      const canFallBack = i < schemes.length - 1;
      try {
        const res = await withRetry(canFallBack ? { ...this.retryPolicy, maxAttempts: 1 } : this.retryPolicy, () =>
          this.send(req, new URL('/v2/', origin)),
        );
        await res.body.dump();
        if (res.status === 401) this.auth.accept(res.headers['www-authenticate']);
        return origin;
      } catch (err) {
        failure = { origin, error: err instanceof RegistryError && err.cause !== undefined ? err.cause : err };
        if (isCertificateError(failure.error)) break;
      }
    }
    const certificate = isCertificateError(failure?.error);
    throw new TcbuildError(
      `cannot reach the registry ${this.registry} at ${failure?.origin}/v2/: ${messageOf(failure?.error)}`,
      {
        cause: failure?.error,
        hint: certificate
          ? `its TLS certificate is not trusted: put its CA in ${join(certsDir(), this.registry, 'ca.crt')}, or ` +
            `skip verification with --tls-verify=false`
          : `check that the registry is running and the address is ` +
            `right${schemes.includes('http') ? '' : '; if it speaks plain HTTP, use --tls-verify=false'}`,
      },
    );
  }

  /**
   * One exchange, following redirects of GET/HEAD (to blob storage, say). The credentials go with
   * each hop while it stays on their origin; after a hop elsewhere (another host or port, http for
   * https) none of the later hops gets them, even one that comes back.
   */
  private async send(req: RegistryRequest, start: URL, credentials?: BoundCredentials): Promise<RegistryResponse> {
    let url = start;
    let onOrigin = credentials !== undefined;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { 'user-agent': 'tcbuild', ...req.headers };
      onOrigin &&= url.origin === credentials!.origin;
      if (onOrigin) headers['authorization'] = credentials!.header;
      let res: Dispatcher.ResponseData;
      try {
        res = await this.opts.agent.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method,
          headers,
          body: typeof req.body === 'function' ? await req.body() : (req.body ?? null),
        });
      } catch (err) {
        // The request body's own failure, e.g. a source that is not what it claims.
        if (err instanceof TcbuildError) throw err;
        throw new RegistryError(`cannot reach ${url.origin} for ${req.what}: ${messageOf(err)}`, {
          cause: err,
          retryable: isRetryableError(err),
        });
      }
      const location = header(res.headers, 'location');
      const redirect = [301, 302, 303, 307, 308].includes(res.statusCode) && location !== undefined;
      if (!redirect || (req.method !== 'GET' && req.method !== 'HEAD')) {
        return { status: res.statusCode, headers: res.headers, body: res.body, url };
      }
      await res.body.dump();
      url = serverUrl(location, url, req.what);
      if (hop >= MAX_REDIRECTS) throw new RegistryError(`${req.what}: too many redirects (last to ${displayUrl(url)})`);
    }
  }

  /** --tls-verify=false, --insecure-registry HOST, and loopback hosts (README, "Registries"). */
  private mayUsePlainHttp(host: string): boolean {
    return this.opts.insecure || this.opts.plainHttpHosts.includes(host) || isLoopbackHost(host);
  }

  private async failure(req: RegistryRequest, res: RegistryResponse): Promise<TcbuildError> {
    const body = req.method === 'HEAD' ? '' : await readText(res.body, MAX_TEXT_BODY).catch(() => '');
    if (req.method === 'HEAD') await res.body.dump();
    const retryable = isRetryableStatus(res.status);
    return responseError(
      {
        method: req.method,
        url: displayUrl(res.url),
        status: res.status,
        body,
        what: req.what,
        registry: this.registry,
      },
      { retryable, retryAfterMs: retryable ? parseRetryAfter(header(res.headers, 'retry-after')) : undefined },
    );
  }

  /**
   * The token endpoint of the distribution auth spec: GET realm?service=…&scope=…, Basic-authenticated
   * when we have credentials. The realm is the registry's to name (often another host), but the
   * password goes there only over https, or to a host the user let us speak plain HTTP to.
   */
  private async fetchToken(request: TokenRequest): Promise<Token> {
    const what = `a token for ${request.scopes.join(' ') || 'the registry'}`;
    const url = serverUrl(request.realm, undefined, `the token realm of ${this.registry}`);
    if (request.credentials && url.protocol !== 'https:' && !this.mayUsePlainHttp(url.host)) {
      throw new UnauthorizedError(
        `${this.registry} asks for your password to be sent to its token service at ${displayUrl(url)} over plain ` +
          `HTTP; tcbuild does not send it there`,
        {
          hint:
            `if you trust that service and the network to it, allow plain HTTP to it with --insecure-registry ` +
            `${url.host}`,
        },
      );
    }
    if (request.service) url.searchParams.set('service', request.service);
    for (const scope of request.scopes) url.searchParams.append('scope', scope);
    if (request.credentials) url.searchParams.set('account', request.credentials.username);
    const req: RegistryRequest = {
      method: 'GET',
      path: url.href,
      scopes: [],
      what: `${what} from ${url.origin}`,
      expect: [200],
    };
    const credentials = request.credentials
      ? { header: basicHeader(request.credentials), origin: url.origin }
      : undefined;
    const res = await withRetry(this.retryPolicy, async () => {
      const r = await this.send(req, url, credentials);
      if (r.status === 200) return r;
      throw await this.failure(req, r);
    });
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(await readText(res.body, MAX_TEXT_BODY)) as typeof body;
    } catch {
      body = {};
    }
    const token = body.token ?? body.access_token;
    if (typeof token !== 'string' || token === '')
      throw new RegistryError(`${url.origin} answered the token request for ${this.registry} without a token`);
    const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    return { token, expiresIn };
  }
}

/** A URL the server sent (a Location, a Link, a realm), resolved against `base`; only http(s) is followed. */
export function serverUrl(text: string, base: string | URL | undefined, what: string): URL {
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new RegistryError(`${what}: the registry sent an invalid URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new RegistryError(`${what}: the registry sent a ${url.protocol} URL, which tcbuild does not follow`);
  return url;
}

/** Reads a response body as text, refusing more than `limit` bytes. */
export async function readText(body: Readable, limit: number): Promise<string> {
  return (await readLimited(body, limit, 'response')).toString('utf8');
}
