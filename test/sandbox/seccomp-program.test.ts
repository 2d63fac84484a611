// The compiled seccomp programs, run by a small classic-BPF interpreter (no root, no kernel
// needed): every call of each architecture's table, unknown numbers, other ABIs, argument rules.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { DEFAULT_CAPABILITIES } from '../../src/sandbox/docker-defaults.js';
import { compileSeccompProgram, defaultSeccompFilter } from '../../src/sandbox/seccomp/bpf.js';
import {
  ALLOWED_ON_ARCH,
  ALLOWED_SYSCALLS,
  ALLOWED_WITH_CAPABILITY,
  ERRNO_SYSCALLS,
  FIRST_ARGUMENT_RULES,
  profileFor,
  type Verdict,
} from '../../src/sandbox/seccomp/profile.js';
import { AUDIT_ARCH, SYSCALL_NUMBERS, type SeccompArch } from '../../src/sandbox/seccomp/syscall-numbers.js';

const ARCHES: SeccompArch[] = ['x64', 'arm64'];
const AUDIT_ARCH_I386 = 0x40000003;
const AUDIT_ARCH_ARM = 0x40000028;
const EPERM = 1;
const ENOSYS = 38;

type Outcome = 'allow' | `errno ${number}` | `kill or other ${number}`;

interface Call {
  nr: number;
  arch: number;
  args?: bigint[];
}

/**
 * Runs a seccomp program on one call as the kernel would, after checking what the kernel's
 * verifier checks (known opcodes, jumps that stay inside, aligned loads of seccomp_data).
 * Returns the outcome and how many instructions ran.
 */
function interpret(program: Buffer, call: Call): { outcome: Outcome; steps: number } {
  const data = Buffer.alloc(64);
  data.writeUInt32LE(call.nr >>> 0, 0);
  data.writeUInt32LE(call.arch >>> 0, 4);
  (call.args ?? []).forEach((arg, i) => {
    data.writeBigUInt64LE(BigInt.asUintN(64, arg), 16 + 8 * i);
  });
  const count = program.length / 8;
  assert.ok(Number.isInteger(count) && count > 0 && count <= 4096, `program of ${program.length} bytes`);
  let a = 0;
  let pc = 0;
  for (let steps = 1; ; steps++) {
    assert.ok(pc < count, `pc ${pc} ran off the end`);
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    const jump = (offset: number) => {
      assert.ok(pc + 1 + offset < count, `jump at ${pc} lands outside the program`);
      pc += 1 + offset;
    };
    switch (code) {
      case 0x20: // ld w abs
        assert.ok(k % 4 === 0 && k < 64, `load of offset ${k}`);
        a = data.readUInt32LE(k);
        pc++;
        break;
      case 0x05: // ja
        jump(k);
        break;
      case 0x15: // jeq k
        jump(a === k ? jt : jf);
        break;
      case 0x35: // jge k
        jump(a >= k ? jt : jf);
        break;
      case 0x45: // jset k
        jump((a & k) !== 0 ? jt : jf);
        break;
      case 0x06: // ret k
        if (k === 0x7fff0000) return { outcome: 'allow', steps };
        if ((k & 0xffff0000) >>> 0 === 0x00050000) return { outcome: `errno ${k & 0xffff}`, steps };
        return { outcome: `kill or other ${k}`, steps };
      default:
        assert.fail(`unknown opcode 0x${code.toString(16)} at ${pc}`);
    }
  }
}

const outcome = (arch: SeccompArch, name: string, ...args: (number | bigint)[]): Outcome => {
  const nr = SYSCALL_NUMBERS[arch][name];
  assert.ok(nr !== undefined, `${name} on ${arch}`);
  return interpret(defaultSeccompFilter(arch), { nr, arch: AUDIT_ARCH[arch], args: args.map(BigInt) }).outcome;
};

describe('the seccomp program', () => {
  for (const arch of ARCHES) {
    describe(arch, () => {
      const program = defaultSeccompFilter(arch);
      const numbers = SYSCALL_NUMBERS[arch];
      const run = (nr: number, args: bigint[] = [], auditArch = AUDIT_ARCH[arch]) =>
        interpret(program, { nr, arch: auditArch, args });

      test("gives every call of the architecture's table the profile's verdict", () => {
        const granted = DEFAULT_CAPABILITIES.flatMap((cap) => ALLOWED_WITH_CAPABILITY[cap] ?? []);
        const allowed = new Set([...ALLOWED_SYSCALLS, ...ALLOWED_ON_ARCH[arch], ...granted]);
        for (const [name, nr] of Object.entries(numbers)) {
          if (name in FIRST_ARGUMENT_RULES) continue;
          const expected = allowed.has(name) ? 'allow' : name in ERRNO_SYSCALLS ? `errno ${ENOSYS}` : `errno ${EPERM}`;
          assert.equal(run(nr).outcome, expected, `${name} (${nr})`);
        }
      });

      test('allows what builds run: glibc, Go, git, gcc, npm, python', () => {
        for (const name of [
          'read',
          'write',
          'openat',
          'openat2',
          'statx',
          'newfstatat',
          'faccessat2',
          'close_range',
          'rseq',
          'futex',
          'futex_waitv',
          'epoll_pwait2',
          'pidfd_open',
          'pidfd_send_signal',
          'copy_file_range',
          'landlock_create_ruleset',
          'memfd_create',
          'memfd_secret',
          'mseal',
          'getrandom',
          'execve',
          'execveat',
          'wait4',
          'chroot',
          'seccomp',
          'ptrace',
          'process_vm_readv',
          'name_to_handle_at',
          'fchmodat2',
          'cachestat',
          'set_robust_list',
          'membarrier',
          'mknodat',
          'sched_setaffinity',
          'prctl',
          'capset',
          'setresuid',
          'setgroups',
          'vmsplice',
          'io_setup',
          'io_submit',
        ]) {
          assert.equal(outcome(arch, name), 'allow', name);
        }
        if (arch === 'x64')
          for (const name of ['arch_prctl', 'modify_ldt', 'fork', 'open', 'stat', 'uretprobe'])
            assert.equal(outcome(arch, name), 'allow', name);
      });

      test("refuses with EPERM what Docker's profile does not allow a container with the default capabilities", () => {
        for (const name of [
          'mount',
          'umount2',
          'pivot_root',
          'unshare',
          'setns',
          'fsopen',
          'fsmount',
          'fsconfig',
          'fspick',
          'move_mount',
          'open_tree',
          'open_tree_attr',
          'mount_setattr',
          'keyctl',
          'add_key',
          'request_key',
          'bpf',
          'perf_event_open',
          'userfaultfd',
          'io_uring_setup',
          'io_uring_enter',
          'io_uring_register',
          'kexec_load',
          'kexec_file_load',
          'init_module',
          'finit_module',
          'delete_module',
          'reboot',
          'swapon',
          'swapoff',
          'acct',
          'quotactl',
          'quotactl_fd',
          'open_by_handle_at',
          'kcmp',
          'pidfd_getfd',
          'process_madvise',
          'settimeofday',
          'clock_settime',
          'sethostname',
          'setdomainname',
          'syslog',
          'vhangup',
          'mbind',
          'set_mempolicy',
          'get_mempolicy',
          'set_mempolicy_home_node',
          'migrate_pages',
          'move_pages',
          'lookup_dcookie',
          'fanotify_init',
          'nfsservctl',
          'lsm_get_self_attr',
          'lsm_set_self_attr',
          'lsm_list_modules',
          'file_getattr',
          'file_setattr',
        ]) {
          assert.equal(outcome(arch, name), `errno ${EPERM}`, name);
        }
        if (arch === 'x64') {
          for (const name of [
            'iopl',
            'ioperm',
            'uselib',
            'ustat',
            'sysfs',
            '_sysctl',
            'create_module',
            'query_module',
            'get_kernel_syms',
            'uprobe',
          ]) {
            assert.equal(outcome(arch, name), `errno ${EPERM}`, name);
          }
        }
      });

      test('answers clone3 with ENOSYS, so that glibc falls back to clone', () => {
        assert.equal(outcome(arch, 'clone3'), `errno ${ENOSYS}`);
      });

      test('refuses every number the table does not name with EPERM', () => {
        const known = new Set(Object.values(numbers));
        for (let nr = 0; nr < 2048; nr++)
          if (!known.has(nr)) assert.equal(run(nr).outcome, `errno ${EPERM}`, String(nr));
        for (const nr of [0x3fffffff, ...(arch === 'arm64' ? [0x40000000, 0x7fffffff, 0xffffffff] : [])]) {
          assert.equal(run(nr).outcome, `errno ${EPERM}`, `0x${nr.toString(16)}`);
        }
      });

      test('refuses other ABIs with ENOSYS: i386 and arm (whatever the number), the other 64-bit architecture, x32', () => {
        const other = AUDIT_ARCH[arch === 'x64' ? 'arm64' : 'x64'];
        for (const auditArch of [AUDIT_ARCH_I386, AUDIT_ARCH_ARM, other, 0]) {
          for (const nr of [0, 1, 3, numbers.getpid!, 102, 1000])
            assert.equal(run(nr, [], auditArch).outcome, `errno ${ENOSYS}`);
        }
        if (arch === 'x64') {
          for (const nr of [
            0x40000000,
            0x40000000 | numbers.read!,
            0x40000000 | numbers.mount!,
            0x40000200,
            0x7fffffff,
            0xffffffff,
          ]) {
            assert.equal(run(nr).outcome, `errno ${ENOSYS}`, `x32 0x${nr.toString(16)}`);
          }
        }
      });

      test('socket: every family but AF_ALG (38) and AF_VSOCK (40), however the high word is set', () => {
        for (const family of [0, 1, 2, 10, 16, 17, 37, 39, 41, 44, 45, 0xffffffff])
          assert.equal(outcome(arch, 'socket', family, 1, 0), 'allow', String(family));
        for (const family of [38, 40, 0x1_0000_0026n, 0x1_0000_0028n, 0xffff_ffff_0000_0026n, 0xffff_ffff_0000_0028n]) {
          assert.equal(outcome(arch, 'socket', family, 5, 0), `errno ${EPERM}`, `family 0x${family.toString(16)}`);
        }
        assert.equal(outcome(arch, 'socketpair', 38, 5, 0), 'allow', 'socketpair refuses AF_ALG itself (EAFNOSUPPORT)');
      });

      test('personality: Linux, 32-bit, UNAME26 and the query; nothing else', () => {
        for (const persona of [0, 8, 0x20000, 0x20008, 0xffffffff])
          assert.equal(outcome(arch, 'personality', persona), 'allow', String(persona));
        for (const persona of [0x0040000, 0x0800000, 0x0400000, 1, 0x20001, 0xfffffffe]) {
          assert.equal(outcome(arch, 'personality', persona), `errno ${EPERM}`, `0x${persona.toString(16)}`);
        }
      });

      test('clone: threads and processes, never a namespace flag', () => {
        const SIGCHLD = 17;
        const pthread = 0x3d0f00; // CLONE_VM|FS|FILES|SIGHAND|THREAD|SYSVSEM|SETTLS|PARENT_SETTID|CHILD_CLEARTID
        for (const flags of [SIGCHLD, pthread, 0x4111 /* vfork */, 0x1_0000_0011n])
          assert.equal(outcome(arch, 'clone', flags), 'allow');
        const namespaces = [0x20000, 0x2000000, 0x4000000, 0x8000000, 0x10000000, 0x20000000, 0x40000000];
        for (const flag of [...namespaces, 0x7e020000, 0x10000000 | SIGCHLD, 0xffff_ffff_0002_0011n]) {
          assert.equal(outcome(arch, 'clone', flag), `errno ${EPERM}`, `flags 0x${flag.toString(16)}`);
        }
      });

      test('costs O(log n): no call runs more than 22 instructions', () => {
        const longest = Math.max(
          ...Array.from({ length: 1024 }, (_, nr) => run(nr).steps),
          ...[0x1fffffff, 0x40000000, 0xffffffff].map((nr) => run(nr).steps),
        );
        assert.ok(longest <= 22, `longest path ${longest}`);
        assert.ok(run(numbers.getppid!).steps <= 14, `getppid ${run(numbers.getppid!).steps}`);
      });
    });
  }

  test('a search too wide for 8-bit jumps still finds every number (long branches go through JA)', () => {
    const verdicts = new Map<number, Verdict>();
    for (let nr = 0; nr < 3000; nr += 3) verdicts.set(nr, nr % 2 ? 'allow' : { errno: 'ENOSYS' });
    const program = compileSeccompProgram('x64', verdicts);
    assert.ok(program.length / 8 > 1000);
    for (let nr = 0; nr < 3100; nr++) {
      const expected = !verdicts.has(nr) ? `errno ${EPERM}` : nr % 2 ? 'allow' : `errno ${ENOSYS}`;
      assert.equal(interpret(program, { nr, arch: AUDIT_ARCH.x64 }).outcome, expected, String(nr));
    }
  });

  test("follows Docker's capability rules: with CAP_SYS_ADMIN, clone takes namespace flags and clone3 is allowed", () => {
    const program = compileSeccompProgram('x64', profileFor('x64', [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']));
    const call = (name: string, ...args: bigint[]) =>
      interpret(program, { nr: SYSCALL_NUMBERS.x64[name]!, arch: AUDIT_ARCH.x64, args }).outcome;
    assert.equal(call('clone', 0x10000000n), 'allow');
    assert.equal(call('clone3'), 'allow');
    assert.equal(call('mount'), 'allow');
    assert.equal(call('socket', 38n), `errno ${EPERM}`, 'the socket rule holds whatever the capabilities');
    assert.equal(call('kcmp'), `errno ${EPERM}`);
  });

  test('is compiled once per process', () => {
    assert.equal(defaultSeccompFilter(), defaultSeccompFilter(process.arch));
  });

  test("every name in the profile is a call of x86_64 or aarch64 (no typos), and each table's numbers are distinct", () => {
    const names = [
      ...ALLOWED_SYSCALLS,
      ...Object.values(ALLOWED_ON_ARCH).flat(),
      ...Object.values(ALLOWED_WITH_CAPABILITY).flat(),
      ...Object.keys(FIRST_ARGUMENT_RULES),
      ...Object.keys(ERRNO_SYSCALLS),
    ];
    for (const name of names)
      assert.ok(
        ARCHES.some((arch) => name in SYSCALL_NUMBERS[arch]),
        name,
      );
    for (const arch of ARCHES) {
      const values = Object.values(SYSCALL_NUMBERS[arch]);
      assert.equal(new Set(values).size, values.length, arch);
    }
  });
});
