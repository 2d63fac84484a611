// The cgroup v2 device program, run by a small eBPF interpreter (the kernel has
// no BPF_PROG_TEST_RUN for device programs), against Docker's device rules.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { deviceProgram, v1DeviceRules } from '../../src/sandbox/cgroup/device-rules.js';
import { ALLOWED_DEVICES } from '../../src/sandbox/docker-defaults.js';

type DeviceType = 'b' | 'c';
const TYPE_BITS: Record<DeviceType, number> = { b: 1, c: 2 };
const ACCESS_BITS: Record<string, number> = { m: 1, r: 2, w: 4 };

/**
 * Runs the program on one request as the kernel would, for the instructions a
 * device program of ours may use; anything else, a jump out of the program, a
 * read of an unset register or a loop fails the test.
 */
function decide(program: Buffer, type: DeviceType | 'none', major: number, minor: number, access: string): boolean {
  const accessBits = [...access].reduce((bits, a) => bits | ACCESS_BITS[a]!, 0);
  const context = [(accessBits << 16) | (type === 'none' ? 0 : TYPE_BITS[type]), major, minor];
  const CTX = -1n; // r1: the context pointer
  const regs = new Map<number, bigint>([[1, CTX]]);
  const read = (r: number) => {
    const value = regs.get(r);
    assert.ok(value !== undefined, `r${r} read before it was set`);
    return value;
  };
  const count = program.length / 8;
  for (let pc = 0, steps = 0; ; pc++, steps++) {
    assert.ok(pc >= 0 && pc < count, `pc ${pc} outside the program`);
    assert.ok(steps < count, 'the program loops');
    const code = program.readUInt8(pc * 8);
    const dst = program.readUInt8(pc * 8 + 1) & 0xf;
    const src = program.readUInt8(pc * 8 + 1) >> 4;
    const off = program.readInt16LE(pc * 8 + 2);
    const imm = program.readInt32LE(pc * 8 + 4);
    const u32 = (v: bigint) => BigInt.asUintN(32, v);
    switch (code) {
      case 0x61: // r[dst] = *(u32 *)(r[src] + off)
        assert.equal(read(src), CTX, 'loads only from the context');
        assert.ok(off % 4 === 0 && off / 4 < context.length, `context offset ${off}`);
        regs.set(dst, BigInt(context[off / 4]! >>> 0));
        break;
      case 0x54:
        regs.set(dst, u32(read(dst) & u32(BigInt(imm))));
        break;
      case 0x74:
        regs.set(dst, u32(read(dst)) >> BigInt(imm));
        break;
      case 0xb4:
        regs.set(dst, u32(BigInt(imm)));
        break;
      case 0xbc:
        regs.set(dst, u32(read(src)));
        break;
      case 0x55:
        if (read(dst) !== BigInt.asUintN(64, BigInt(imm))) pc += off;
        break;
      case 0x5d:
        if (read(dst) !== read(src)) pc += off;
        break;
      case 0x95: {
        const verdict = read(0);
        assert.ok(verdict === 0n || verdict === 1n, `returns ${verdict}`);
        return verdict === 1n;
      }
      default:
        assert.fail(`unexpected opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
}

/** Docker's verdicts, written out: [type, major, minor, access, allowed]. */
const DOCKER: [DeviceType, number, number, string, boolean][] = [
  ...[
    [1, 3],
    [1, 5],
    [1, 7],
    [1, 8],
    [1, 9],
    [5, 0],
    [5, 1],
    [5, 2],
    [136, 0],
    [136, 7],
    [136, 1048575],
    [10, 200],
  ].flatMap(([major, minor]) =>
    ['r', 'w', 'rw', 'm', 'rwm'].map(
      (access) => ['c', major!, minor!, access, true] as [DeviceType, number, number, string, boolean],
    ),
  ),
  ['c', 1, 1, 'r', false], // mem
  ['c', 1, 1, 'rw', false],
  ['c', 1, 2, 'w', false], // kmem
  ['c', 1, 4, 'r', false], // port
  ['c', 1, 11, 'w', false], // kmsg
  ['c', 4, 1, 'rw', false], // tty1
  ['c', 5, 3, 'r', false],
  ['c', 10, 229, 'rw', false], // fuse: moby denies it
  ['c', 10, 232, 'rw', false], // kvm
  ['c', 137, 0, 'r', false],
  ['c', 0, 0, 'r', false],
  ['c', 1, 1, 'rm', false], // mknod is allowed, reading is not: both at once is not
  ['b', 7, 0, 'r', false], // loop0
  ['b', 8, 0, 'w', false], // sda
  ['b', 254, 0, 'rw', false], // vda
  ['b', 1, 3, 'r', false], // a block device with /dev/null's numbers
  ['b', 136, 0, 'rw', false],
  ['b', 10, 200, 'r', false],
  ...[
    [1, 1],
    [4, 1],
    [10, 229],
    [4095, 1048575],
  ].map(([major, minor]) => ['c', major!, minor!, 'm', true] as [DeviceType, number, number, string, boolean]),
  ...[
    [7, 0],
    [254, 0],
    [8, 16],
  ].map(([major, minor]) => ['b', major!, minor!, 'm', true] as [DeviceType, number, number, string, boolean]),
];

describe('the cgroup v2 device program', () => {
  const program = deviceProgram();

  test("decides every request as Docker's device rules do", () => {
    const wrong = DOCKER.filter(
      ([type, major, minor, access, allowed]) => decide(program, type, major, minor, access) !== allowed,
    );
    assert.deepEqual(wrong, []);
  });

  test('every rule of ALLOWED_DEVICES lets its access through, and what it does not name stays denied', () => {
    for (const rule of ALLOWED_DEVICES) {
      const major = rule.major === '*' ? 4095 : rule.major;
      const minor = rule.minor === '*' ? 12345 : rule.minor;
      const label = v1DeviceRules()[ALLOWED_DEVICES.indexOf(rule)];
      for (const access of [...rule.access])
        assert.equal(decide(program, rule.type, major, minor, access), true, `${label}: ${access}`);
      assert.equal(decide(program, rule.type, major, minor, rule.access), true, label);
      const other = rule.type === 'c' ? 'b' : 'c';
      if (rule.major !== '*') assert.equal(decide(program, other, major, minor, 'r'), false, `${label}: as ${other}`);
    }
  });

  test('a request of no device type is denied', () => {
    assert.equal(decide(program, 'none', 1, 3, 'r'), false);
  });

  test("the v1 controller gets the same rules as Docker's devices.allow lines", () => {
    assert.deepEqual(v1DeviceRules(), [
      'c *:* m',
      'b *:* m',
      'c 1:3 rwm',
      'c 1:5 rwm',
      'c 1:7 rwm',
      'c 1:8 rwm',
      'c 1:9 rwm',
      'c 5:0 rwm',
      'c 5:1 rwm',
      'c 5:2 rwm',
      'c 136:* rwm',
      'c 10:200 rwm',
    ]);
  });
});
