// What probes/syscalls.c must print inside a container under Docker's default seccomp profile,
// natively and as the other architecture's program under qemu-user (where qemu answers some
// calls itself and passes the rest to the host kernel, through the host's filter).
import assert from 'node:assert/strict';
import type { ProbeArch } from './probes.js';

interface Expectation {
  /** The exact result natively: an errno name, or 'works' for anything but EPERM (the call got past the filter). */
  native: 'EPERM' | 'ENOSYS' | 'works';
  /** qemu-user hands the call to the host kernel, so under emulation it meets the host's filter too. */
  qemuPassesOn?: true;
  /** Printed on x86_64 only. */
  x64Only?: true;
}

const refused = (more: Partial<Expectation> = {}): Expectation => ({ native: 'EPERM', ...more });
const passed = { qemuPassesOn: true } as const;
const works = (more: Partial<Expectation> = {}): Expectation => ({ native: 'works', ...more });

export const SECCOMP_PROBE: Readonly<Record<string, Expectation>> = {
  mount: refused(passed),
  umount2: refused(passed),
  unshare_newuser: refused(passed),
  unshare_newns: refused(passed),
  setns: refused(passed),
  fsopen: refused(),
  open_tree: refused(),
  keyctl: refused(),
  add_key: refused(),
  request_key: refused(),
  bpf: refused(),
  perf_event_open: refused(),
  userfaultfd: refused(),
  io_uring_setup: refused(),
  kexec_load: refused(),
  open_by_handle_at: refused(),
  kcmp: refused(passed),
  pidfd_getfd: refused(passed),
  process_madvise: refused(),
  syslog: refused(passed),
  swapon: refused(passed),
  socket_af_vsock: refused(passed),
  socket_af_alg: refused(passed),
  socket_af_alg_high_word: refused(passed),
  personality_addr_limit_32bit: refused(passed),
  personality_addr_no_randomize: refused(passed),
  clone_newns: refused(),
  clone_newuser: refused(),
  clone_newnet: refused(),
  clone3: { native: 'ENOSYS' },
  syscall_1000: refused(),
  x32_getpid: { native: 'ENOSYS', x64Only: true },
  i386_getpid: { native: 'ENOSYS', x64Only: true },
  getppid: works(passed),
  statx: works(passed),
  faccessat2: works(passed),
  openat2: works(),
  close_range: works(passed),
  epoll_pwait2: works(),
  landlock_create_ruleset: works(),
  pidfd_open: works(passed),
  process_mrelease: works(),
  membarrier: works(passed),
  memfd_create: works(passed),
  getrandom: works(passed),
  chroot: works(passed),
  ptrace: works(),
  socket_af_unix: works(passed),
  socket_af_inet: works(passed),
  socket_af_netlink: works(passed),
  personality_query: works(passed),
  personality_linux: works(passed),
  clone_fork: works(passed),
  fork: works(passed),
};

/**
 * Checks the probe's output line by line. Natively every result is exact (or, for 'works', not
 * EPERM). Under emulation a call qemu passes on must give the native result; one qemu answers
 * itself must still fail when refused.
 */
export function assertSeccompProbe(stdout: string, how: { arch: ProbeArch; emulated: boolean }): void {
  const printed = new Map(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' ') as [string, string]),
  );
  const expected = Object.entries(SECCOMP_PROBE).filter(([, e]) => how.arch === 'x64' || !e.x64Only);
  assert.deepEqual(
    [...printed.keys()],
    expected.map(([name]) => name),
    'the probe printed one line per call',
  );
  for (const [name, e] of expected) {
    const got = printed.get(name)!;
    const what = `${name}: ${got}${how.emulated ? ' (emulated)' : ''}`;
    if (e.native === 'works') assert.notEqual(got, 'EPERM', what);
    else if (!how.emulated || e.qemuPassesOn) assert.equal(got, e.native, what);
    else assert.notEqual(got, '0', what);
  }
}
