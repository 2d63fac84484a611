// Compiles the default profile (./profile.ts) into a classic-BPF seccomp
// program for the host's architecture. The addon only loads the bytes.
import { ALLOWED_PERSONALITIES, CLONE_NAMESPACE_FLAGS, DENIED_SYSCALLS, ENOSYS_SYSCALLS } from './profile.js';
import { AUDIT_ARCH, SYSCALL_NUMBERS, X32_SYSCALL_BIT, type SeccompArch } from './syscall-numbers.js';

// linux/filter.h and linux/seccomp.h
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;
const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;
// offsets in struct seccomp_data
const NR = 0;
const ARCH = 4;
const ARG0_LOW = 16;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const load = (offset: number): Insn => ({ code: LD_W_ABS, jt: 0, jf: 0, k: offset });
const ret = (value: number): Insn => ({ code: RET_K, jt: 0, jf: 0, k: value });
/** Runs the next instruction when A == k, else skips `skip` instructions. */
const ifEqual = (k: number, skip = 1): Insn => ({ code: JEQ_K, jt: 0, jf: skip, k });

function program(arch: SeccompArch): Insn[] {
  const numbers = SYSCALL_NUMBERS[arch];
  const known = (names: readonly string[]) => names.map((n) => numbers[n]).filter((n): n is number => n !== undefined);
  // A foreign ABI (i386 on x86_64) has other numbers: none of its calls pass.
  const insns: Insn[] = [load(ARCH), { code: JEQ_K, jt: 1, jf: 0, k: AUDIT_ARCH[arch] }, ret(RET_ERRNO | ENOSYS), load(NR)];
  if (arch === 'x64') insns.push({ code: JGE_K, jt: 0, jf: 1, k: X32_SYSCALL_BIT }, ret(RET_ERRNO | ENOSYS));
  for (const nr of known(DENIED_SYSCALLS)) insns.push(ifEqual(nr), ret(RET_ERRNO | EPERM));
  for (const nr of known(ENOSYS_SYSCALLS)) insns.push(ifEqual(nr), ret(RET_ERRNO | ENOSYS));
  insns.push(
    ifEqual(numbers.clone!, 4),
    load(ARG0_LOW),
    { code: JSET_K, jt: 0, jf: 1, k: CLONE_NAMESPACE_FLAGS },
    ret(RET_ERRNO | EPERM),
    ret(RET_ALLOW),
  );
  insns.push(ifEqual(numbers.personality!, 2 + 2 * ALLOWED_PERSONALITIES.length), load(ARG0_LOW));
  for (const persona of ALLOWED_PERSONALITIES) insns.push(ifEqual(persona), ret(RET_ALLOW));
  insns.push(ret(RET_ERRNO | EPERM), ret(RET_ALLOW));
  return insns;
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

/** The default profile as a program for `arch` (the host's by default); compiled once per process. */
export function defaultSeccompFilter(arch: string = process.arch): Buffer {
  if (arch !== 'x64' && arch !== 'arm64') throw new Error(`no seccomp profile for the ${arch} architecture`);
  let filter = compiled.get(arch);
  if (!filter) compiled.set(arch, (filter = encode(program(arch))));
  return filter;
}
