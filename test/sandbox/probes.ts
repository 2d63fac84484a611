// Small static C programs the tests run inside the sandbox (test/sandbox/probes/*.c).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SOURCES = fileURLToPath(new URL('../../../test/sandbox/probes/', import.meta.url));

/** Compiles probes/NAME.c statically into `rootfs`/bin/NAME. */
export function installProbe(name: string, rootfs: string): void {
  execFileSync('gcc', ['-static', '-O1', '-o', join(rootfs, 'bin', name), join(SOURCES, `${name}.c`)]);
}
