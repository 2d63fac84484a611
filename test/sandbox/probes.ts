// Small static C programs the tests run inside the sandbox (test/sandbox/probes/*.c), built for
// the host or, with Debian's cross compiler, for the other architecture (run under emulation).
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SOURCES = fileURLToPath(new URL('../../../test/sandbox/probes/', import.meta.url));

export type ProbeArch = 'x64' | 'arm64';

const CROSS_COMPILERS: Record<ProbeArch, string> = { x64: 'x86_64-linux-gnu-gcc', arm64: 'aarch64-linux-gnu-gcc' };
const CROSS_PACKAGES: Record<ProbeArch, string> = { x64: 'gcc-x86-64-linux-gnu', arm64: 'gcc-aarch64-linux-gnu' };

/** The architecture tests emulate: the one of x64 and arm64 the host is not. */
export const FOREIGN_ARCH: ProbeArch = process.arch === 'arm64' ? 'x64' : 'arm64';

/** The OCI platform of a probe architecture. */
export const PLATFORM: Record<ProbeArch, string> = { x64: 'linux/amd64', arm64: 'linux/arm64' };

const compilerFor = (arch: ProbeArch) => (arch === process.arch ? 'gcc' : CROSS_COMPILERS[arch]);

/** Why probes for the foreign architecture cannot be built here, or false. */
export const noForeignProbes: string | false =
  spawnSync(compilerFor(FOREIGN_ARCH), ['--version']).status === 0
    ? false
    : `needs ${compilerFor(FOREIGN_ARCH)} (Debian's ${CROSS_PACKAGES[FOREIGN_ARCH]}, installed by scripts/install-system-deps.sh) to build ${FOREIGN_ARCH} probes`;

/** Compiles probes/NAME.c statically into the file `output`, for `arch` (the host's by default). */
export function compileProbe(name: string, output: string, arch: ProbeArch = process.arch as ProbeArch): void {
  execFileSync(compilerFor(arch), ['-static', '-O1', '-o', output, `${SOURCES}${name}.c`]);
}
