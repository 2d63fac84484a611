import { getSystemErrorMap } from 'node:util';

/**
 * Errors meant for people. The CLI prints `message` (and `hint`) without a stack trace;
 * anything that is not a TcbuildError is a bug and is reported as one.
 */
export class TcbuildError extends Error {
  readonly hint: string | undefined;
  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

export class NotFoundError extends TcbuildError {}
export class AlreadyExistsError extends TcbuildError {}
export class DigestMismatchError extends TcbuildError {}
export class InvalidInputError extends TcbuildError {}
/** The caller stopped the work (an AbortSignal): nothing failed. */
export class CancelledError extends TcbuildError {}
/** Something this machine lacks (a tool, a kernel feature) or a permission the build was not given. */
export class FailedPreconditionError extends TcbuildError {}

/** The message of any thrown value, for wrapping low-level errors into user-facing ones. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * "cannot write PATH: no such file or directory" — an fs error named by the file the user asked for, not a temp file.
 */
export function cannotWrite(path: string, err: unknown): TcbuildError {
  return err instanceof TcbuildError ? err : new TcbuildError(`cannot write ${path}: ${reasonOf(err)}`, { cause: err });
}

/** "cannot read PATH: no such file or directory"; a missing file is a NotFoundError. */
export function cannotRead(path: string, err: unknown): TcbuildError {
  if (err instanceof TcbuildError) return err;
  const Fault = isErrno(err, 'ENOENT') ? NotFoundError : TcbuildError;
  return new Fault(`cannot read ${path}: ${reasonOf(err)}`, { cause: err });
}

function reasonOf(err: unknown): string {
  const errno = (err as NodeJS.ErrnoException).errno;
  return (errno !== undefined && getSystemErrorMap().get(errno)?.[1]) || messageOf(err);
}

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
