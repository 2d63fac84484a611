// The device rules (ALLOWED_DEVICES) in the two forms the kernel takes: lines
// for the v1 devices controller, and on cgroup v2 a BPF_PROG_TYPE_CGROUP_DEVICE
// program, generated here as runc generates its own. The addon only loads the bytes.
import { ALLOWED_DEVICES, type DeviceRule } from '../docker-defaults.js';

/** The lines to write to devices.allow after "a" to devices.deny, e.g. "c 1:3 rwm". */
export function v1DeviceRules(): string[] {
  return ALLOWED_DEVICES.map((r) => `${r.type} ${r.major}:${r.minor} ${r.access}`);
}

// linux/bpf.h: struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; },
// access_type = (BPF_DEVCG_ACC_* << 16) | BPF_DEVCG_DEV_*
const CTX_ACCESS_TYPE = 0;
const CTX_MAJOR = 4;
const CTX_MINOR = 8;
const DEV_TYPE = { b: 1, c: 2 } as const;
const ACCESS = { m: 1, r: 2, w: 4 } as const;

// Opcodes (linux/bpf_common.h): class | operation | source (K: the immediate, X: a register).
const LDX_MEM_W = 0x01 | 0x60 | 0x00;
const ALU32_AND_K = 0x04 | 0x50 | 0x00;
const ALU32_RSH_K = 0x04 | 0x70 | 0x00;
const ALU32_MOV_K = 0x04 | 0xb0 | 0x00;
const ALU32_MOV_X = 0x04 | 0xb0 | 0x08;
const JMP_JNE_K = 0x05 | 0x50 | 0x00;
const JMP_JNE_X = 0x05 | 0x50 | 0x08;
const JMP_EXIT = 0x05 | 0x90;

/** r1 holds the context; r0 is the verdict (1 allows). */
const [R0, R1, TYPE, REQUESTED, MAJOR, MINOR] = [0, 1, 2, 3, 4, 5] as const;

interface Insn {
  code: number;
  dst: number;
  src: number;
  /** Jumps: how many instructions to skip when taken. */
  off: number;
  imm: number;
}

const insn = (code: number, dst: number, src: number, off: number, imm: number): Insn => ({ code, dst, src, off, imm });
const loadContext = (dst: number, offset: number) => insn(LDX_MEM_W, dst, R1, offset, 0);
const verdict = (allow: boolean) => [insn(ALU32_MOV_K, R0, 0, 0, allow ? 1 : 0), insn(JMP_EXIT, 0, 0, 0, 0)];

/** Stands for "past this rule's block" in a jump until the block's length is known. */
const NEXT_RULE = -1;

/**
 * One rule's block: every test that fails jumps to the next rule, and a request that
 * passes them all is allowed. Access passes when every requested bit is one of the
 * rule's (an open for reading and writing asks for both).
 */
function ruleBlock(rule: DeviceRule): Insn[] {
  const block = [insn(JMP_JNE_K, TYPE, 0, NEXT_RULE, DEV_TYPE[rule.type])];
  const access = [...rule.access].reduce((bits, a) => bits | ACCESS[a as keyof typeof ACCESS], 0);
  if (access !== (ACCESS.m | ACCESS.r | ACCESS.w)) {
    block.push(
      insn(ALU32_MOV_X, R1, REQUESTED, 0, 0),
      insn(ALU32_AND_K, R1, 0, 0, access),
      insn(JMP_JNE_X, R1, REQUESTED, NEXT_RULE, 0),
    );
  }
  if (rule.major !== '*') block.push(insn(JMP_JNE_K, MAJOR, 0, NEXT_RULE, rule.major));
  if (rule.minor !== '*') block.push(insn(JMP_JNE_K, MINOR, 0, NEXT_RULE, rule.minor));
  block.push(...verdict(true));
  return block.map((i, n) => (i.off === NEXT_RULE ? { ...i, off: block.length - n - 1 } : i));
}

function program(rules: readonly DeviceRule[]): Insn[] {
  return [
    loadContext(TYPE, CTX_ACCESS_TYPE),
    insn(ALU32_AND_K, TYPE, 0, 0, 0xffff),
    loadContext(REQUESTED, CTX_ACCESS_TYPE),
    insn(ALU32_RSH_K, REQUESTED, 0, 0, 16),
    loadContext(MAJOR, CTX_MAJOR),
    loadContext(MINOR, CTX_MINOR),
    ...rules.flatMap(ruleBlock),
    ...verdict(false),
  ];
}

/**
 * struct bpf_insn: u8 code, u8 dst_reg:4 src_reg:4 (low nibble first), s16 off, s32 imm — host byte order,
 * little-endian here.
 */
function encode(insns: Insn[]): Buffer {
  const bytes = Buffer.alloc(insns.length * 8);
  insns.forEach((i, n) => {
    bytes.writeUInt8(i.code, n * 8);
    bytes.writeUInt8((i.src << 4) | i.dst, n * 8 + 1);
    bytes.writeInt16LE(i.off, n * 8 + 2);
    bytes.writeInt32LE(i.imm, n * 8 + 4);
  });
  return bytes;
}

let compiled: Buffer | undefined;

/**
 * The eBPF program that allows what ALLOWED_DEVICES allows and denies every other device access; made once per process.
 */
export function deviceProgram(): Buffer {
  return (compiled ??= encode(program(ALLOWED_DEVICES)));
}
