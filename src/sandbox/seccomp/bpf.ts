// Compiles the default profile (./profile.ts) into a classic-BPF seccomp program for one
// architecture: the ABI check, then a balanced binary search over ranges of syscall numbers that
// share a verdict, so any call costs O(log n) compares. The addon only loads the bytes.
import { constants } from 'node:os';

import { DEFAULT_CAPABILITIES } from '../docker-defaults.js';
import { profileFor, type FirstArgumentRule, type Verdict } from './profile.js';
import { AUDIT_ARCH, X32_SYSCALL_BIT, type SeccompArch } from './syscall-numbers.js';

// linux/filter.h and linux/seccomp.h
const LD_W_ABS = 0x20;
const JA = 0x05;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const MAX_INSNS = 4096;
/** jt and jf are 8 bits; a longer branch goes through a JA, whose offset is 32 bits. */
const MAX_SHORT_JUMP = 255;
// offsets in struct seccomp_data (little-endian: an argument's low word comes first)
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16;

const { EPERM, ENOSYS } = constants.errno;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

type Action = 'allow' | { errno: number } | FirstArgumentRule;

/** Numbers from `first` up to the next range's first get `action`. */
interface Range {
  first: number;
  action: Action;
}

const load = (offset: number): Insn => ({ code: LD_W_ABS, jt: 0, jf: 0, k: offset });
const ret = (value: number): Insn => ({ code: RET_K, jt: 0, jf: 0, k: value });
const REFUSE = ret(RET_ERRNO | EPERM);
const ALLOW = ret(RET_ALLOW);

function actionOf(verdict: Verdict): Action {
  return typeof verdict === 'object' && 'errno' in verdict ? { errno: constants.errno[verdict.errno] } : verdict;
}

function sameAction(a: Action, b: Action): boolean {
  if (a === b) return true;
  return typeof a === 'object' && typeof b === 'object' && 'errno' in a && 'errno' in b && a.errno === b.errno;
}

/** The whole 32-bit number space cut where the verdict changes; EPERM where the profile says nothing. */
function rangesOf(arch: SeccompArch, verdicts: Map<number, Verdict>): Range[] {
  const ranges: Range[] = [];
  const cut = (first: number, action: Action) => {
    if (ranges.at(-1)?.first === first) ranges.pop();
    const previous = ranges.at(-1);
    if (!previous || !sameAction(previous.action, action)) ranges.push({ first, action });
  };
  const refused: Action = { errno: EPERM };
  cut(0, refused);
  for (const nr of [...verdicts.keys()].sort((a, b) => a - b)) {
    cut(nr, actionOf(verdicts.get(nr)!));
    cut(nr + 1, refused);
  }
  // x32 calls carry x86_64's AUDIT_ARCH with bit 30 set: another ABI, refused as i386's is.
  if (arch === 'x64') cut(X32_SYSCALL_BIT, { errno: ENOSYS });
  return ranges;
}

function leaf(action: Action): Insn[] {
  if (action === 'allow') return [ALLOW];
  if ('errno' in action) return [ret(RET_ERRNO | action.errno)];
  if ('refuseFlags' in action)
    return [load(ARG0_LOW), { code: JSET_K, jt: 1, jf: 0, k: action.refuseFlags }, ALLOW, REFUSE];
  const [values, onMatch, otherwise] =
    'refuse' in action ? [action.refuse, REFUSE, ALLOW] : [action.allowOnly, ALLOW, REFUSE];
  const tests = values.map((k, i): Insn => ({ code: JEQ_K, jt: values.length - i, jf: 0, k: k >>> 0 }));
  return [load(ARG0_LOW), ...tests, otherwise, onMatch];
}

/** Code that finds the range of the number in A and runs its action; the lower half follows each test. */
function search(ranges: Range[]): Insn[] {
  if (ranges.length === 1) return leaf(ranges[0]!.action);
  const middle = ranges.length >> 1;
  const below = search(ranges.slice(0, middle));
  const above = search(ranges.slice(middle));
  const k = ranges[middle]!.first;
  const test: Insn[] =
    below.length <= MAX_SHORT_JUMP
      ? [{ code: JGE_K, jt: below.length, jf: 0, k }]
      : [
          { code: JGE_K, jt: 0, jf: 1, k },
          { code: JA, jt: 0, jf: 0, k: below.length },
        ];
  return [...test, ...below, ...above];
}

/** A program for `arch` giving each number its verdict, and EPERM to numbers without one. */
export function compileSeccompProgram(arch: SeccompArch, verdicts: Map<number, Verdict>): Buffer {
  // Another ABI (i386 on x86_64, arm on aarch64) numbers its calls differently: none of them pass.
  const abiCheck = [load(ARCH), { code: JEQ_K, jt: 1, jf: 0, k: AUDIT_ARCH[arch] }, ret(RET_ERRNO | ENOSYS)];
  const insns = [...abiCheck, load(NR), ...search(rangesOf(arch, verdicts))];
  if (insns.length > MAX_INSNS)
    throw new Error(`the seccomp program has ${insns.length} instructions, more than the kernel's ${MAX_INSNS}`);
  return encode(insns);
}

function encode(insns: Insn[]): Buffer {
  const bytes = Buffer.alloc(insns.length * 8);
  insns.forEach((insn, i) => {
    bytes.writeUInt16LE(insn.code, i * 8);
    bytes.writeUInt8(insn.jt, i * 8 + 2);
    bytes.writeUInt8(insn.jf, i * 8 + 3);
    bytes.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return bytes;
}

const compiled = new Map<SeccompArch, Buffer>();

/** Docker's default profile as a program for `arch` (the host's by default); compiled once per process. */
export function defaultSeccompFilter(arch: string = process.arch): Buffer {
  if (arch !== 'x64' && arch !== 'arm64') throw new Error(`no seccomp profile for the ${arch} architecture`);
  let filter = compiled.get(arch);
  if (!filter) compiled.set(arch, (filter = compileSeccompProgram(arch, profileFor(arch, DEFAULT_CAPABILITIES))));
  return filter;
}
