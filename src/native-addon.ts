import { createRequire } from 'node:module';
import { TcbuildError } from './errors.js';

let loaded: unknown;

/**
 * The addon node-gyp built at the package root (build/Release), loaded on first use so that
 * importing the library works where it was not built. Each module types the part it uses.
 */
export function nativeAddon<T>(): T {
  try {
    loaded ??= createRequire(import.meta.url)('../../build/Release/tcbuild_native.node');
  } catch (err) {
    throw new TcbuildError(
      `the native addon is missing or broken (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
      {
        hint: 'build it with `npm ci` or `npm run build` (needs g++, make and python3)',
      },
    );
  }
  return loaded as T;
}
