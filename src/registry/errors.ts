import { NotFoundError, TcbuildError } from '../errors.js';

/** A registry answered with an HTTP status we cannot go on from. */
export class RegistryError extends TcbuildError {
  readonly status: number | undefined;
  /** Whether trying the same operation again may succeed (false once our own retries are spent). */
  readonly retryable: boolean;
  /** How long the server asked us to wait before trying again (Retry-After). */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: RegistryErrorOptions = {}) {
    super(message, options);
    this.status = options.status;
    this.retryable = options.retryable ?? false;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** The same error, marked final: our retries for it are spent. */
  spent(): RegistryError {
    if (!this.retryable) return this;
    const Kind = this.constructor as new (message: string, options: RegistryErrorOptions) => RegistryError;
    return new Kind(this.message, { status: this.status, hint: this.hint, cause: this.cause });
  }
}

interface RegistryErrorOptions {
  status?: number | undefined;
  retryable?: boolean;
  retryAfterMs?: number | undefined;
  hint?: string | undefined;
  cause?: unknown;
}

export class UnauthorizedError extends RegistryError {}

/** The distribution-spec error body: `{"errors":[{"code","message","detail"}]}`. */
interface ErrorBody {
  errors?: { code?: string; message?: string }[];
}

function describeErrorBody(body: string): { code: string | undefined; text: string } {
  try {
    const first = (JSON.parse(body) as ErrorBody).errors?.[0];
    if (first?.code) {
      return {
        code: first.code,
        text: first.code.toLowerCase().replaceAll('_', ' ') + (first.message ? ` (${first.message})` : ''),
      };
    }
  } catch {
    // not JSON: fall through to the raw text
  }
  return { code: undefined, text: body.trim().slice(0, 200) };
}

export interface FailedResponse {
  method: string;
  url: string;
  status: number;
  body: string;
  /** What the request was about, for people: "manifest localhost:5000/app:1". */
  what: string;
  /** The registry host, to suggest `tcbuild login HOST`. */
  registry: string;
}

/** Turns a non-success response into an error that says what failed and what to do. */
export function responseError(
  r: FailedResponse,
  retry: { retryable: boolean; retryAfterMs?: number | undefined } = { retryable: false },
): TcbuildError {
  const { code, text } = describeErrorBody(r.body);
  const status = r.status;
  if (status === 401) {
    return new UnauthorizedError(
      `unauthorized: ${r.registry} refused access to ${r.what} (${r.method} ${r.url})${text ? `: ${text}` : ''}`,
      {
        status,
        hint: `log in with tcbuild login ${r.registry}`,
      },
    );
  }
  if (status === 403) {
    return new UnauthorizedError(
      `denied: ${r.registry} does not allow ${r.method} on ${r.what} (${r.url})${text ? `: ${text}` : ''}`,
      {
        status,
        hint:
          `check that your account (tcbuild login ${r.registry}) has ` +
          `${r.method === 'GET' || r.method === 'HEAD' ? 'pull' : 'push'} access to it`,
      },
    );
  }
  if (status === 404) {
    const kind = code ? code.toLowerCase().replaceAll('_', ' ') : 'not found';
    return new NotFoundError(`${kind}: ${r.what} does not exist`, {
      hint: `check the name and tag (${r.method} ${r.url})`,
    });
  }
  return new RegistryError(`${r.method} ${r.url} failed for ${r.what}: HTTP ${status}${text ? ` ${text}` : ''}`, {
    status,
    ...retry,
  });
}
