import { TcbuildError } from '../errors.js';

/**
 * Wraps a command's handler: user errors print as one paragraph (plus a hint) and exit 1;
 * anything else is a bug, printed briefly (the stack with TCBUILD_DEBUG=1) and exits 2.
 */
export function action<A extends unknown[]>(handler: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await handler(...args);
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

export function reportError(err: unknown): number {
  if (err instanceof TcbuildError) {
    process.stderr.write(`error: ${err.message}\n${err.hint ? `hint: ${err.hint}\n` : ''}`);
    return 1;
  }
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string' && e.syscall) {
    process.stderr.write(`error: ${e.message}\n`);
    return 1;
  }
  process.stderr.write(`internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env['TCBUILD_DEBUG']) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
  else process.stderr.write('this is a bug in tcbuild; run again with TCBUILD_DEBUG=1 for details and report it\n');
  return 2;
}

/** Collects a repeatable option into a list. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

type AsyncFunction = (...args: never[]) => Promise<unknown>;

/**
 * A library verb that loads its module on first call: each command file names its verb as if
 * imported, yet a run of one command never loads the others' modules (and everything behind them).
 */
export function lazy<M extends Record<K, AsyncFunction>, K extends keyof M>(load: () => Promise<M>, name: K): M[K] {
  const call = async (...args: Parameters<M[K]>) => (await load())[name](...args);
  return call as M[K];
}
