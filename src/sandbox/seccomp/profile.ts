// Docker's default seccomp profile (moby/profiles seccomp v0.2.3, default_linux.go) as data, for
// the x86_64 and aarch64 ABIs only: names Docker lists for 32-bit or other ABIs (chown32, mmap2,
// socketcall, riscv_hwprobe, ...) are left out, because the filter refuses those ABIs wholesale
// (bpf.ts). Every call named nowhere here fails with EPERM, Docker's default action.
import { SYSCALL_NUMBERS, type SeccompArch } from './syscall-numbers.js';

/** Allowed with any arguments, on each architecture that has the call. */
export const ALLOWED_SYSCALLS: readonly string[] = [
  'accept', 'accept4', 'access', 'adjtimex', 'alarm', 'bind', 'brk', 'cachestat', 'capget', 'capset', 'chdir', 'chmod',
  'chown', 'clock_adjtime', 'clock_getres', 'clock_gettime', 'clock_nanosleep', 'close', 'close_range', 'connect',
  'copy_file_range', 'creat', 'dup', 'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old',
  'epoll_pwait', 'epoll_pwait2', 'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'execve', 'execveat', 'exit',
  'exit_group', 'faccessat', 'faccessat2', 'fadvise64', 'fallocate', 'fanotify_mark', 'fchdir', 'fchmod', 'fchmodat',
  'fchmodat2', 'fchown', 'fchownat', 'fcntl', 'fdatasync', 'fgetxattr', 'flistxattr', 'flock', 'fork', 'fremovexattr',
  'fsetxattr', 'fstat', 'fstatfs', 'fsync', 'ftruncate', 'futex', 'futex_requeue', 'futex_wait', 'futex_waitv',
  'futex_wake', 'futimesat', 'get_robust_list', 'get_thread_area', 'getcpu', 'getcwd', 'getdents', 'getdents64',
  'getegid', 'geteuid', 'getgid', 'getgroups', 'getitimer', 'getpeername', 'getpgid', 'getpgrp', 'getpid', 'getppid',
  'getpriority', 'getrandom', 'getresgid', 'getresuid', 'getrlimit', 'getrusage', 'getsid', 'getsockname',
  'getsockopt', 'gettid', 'gettimeofday', 'getuid', 'getxattr', 'getxattrat', 'inotify_add_watch', 'inotify_init',
  'inotify_init1', 'inotify_rm_watch', 'io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_setup',
  'io_submit', 'ioctl', 'ioprio_get', 'ioprio_set', 'kill', 'landlock_add_rule', 'landlock_create_ruleset',
  'landlock_restrict_self', 'lchown', 'lgetxattr', 'link', 'linkat', 'listen', 'listmount', 'listxattr', 'listxattrat',
  'llistxattr', 'lremovexattr', 'lseek', 'lsetxattr', 'lstat', 'madvise', 'map_shadow_stack', 'membarrier',
  'memfd_create', 'memfd_secret', 'mincore', 'mkdir', 'mkdirat', 'mknod', 'mknodat', 'mlock', 'mlock2', 'mlockall',
  'mmap', 'mprotect', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedsend', 'mq_unlink',
  'mremap', 'mseal', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'msync', 'munlock', 'munlockall', 'munmap',
  'name_to_handle_at', 'nanosleep', 'newfstatat', 'open', 'openat', 'openat2', 'pause', 'pidfd_open',
  'pidfd_send_signal', 'pipe', 'pipe2', 'pkey_alloc', 'pkey_free', 'pkey_mprotect', 'poll', 'ppoll', 'prctl',
  'pread64', 'preadv', 'preadv2', 'prlimit64', 'process_mrelease', 'pselect6', 'pwrite64', 'pwritev', 'pwritev2',
  'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'recvfrom', 'recvmmsg', 'recvmsg', 'remap_file_pages',
  'removexattr', 'removexattrat', 'rename', 'renameat', 'renameat2', 'restart_syscall', 'rmdir', 'rseq',
  'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend',
  'rt_sigtimedwait', 'rt_tgsigqueueinfo', 'sched_get_priority_max', 'sched_get_priority_min', 'sched_getaffinity',
  'sched_getattr', 'sched_getparam', 'sched_getscheduler', 'sched_rr_get_interval', 'sched_setaffinity',
  'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield', 'seccomp', 'select', 'semctl', 'semget',
  'semop', 'semtimedop', 'sendfile', 'sendmmsg', 'sendmsg', 'sendto', 'set_robust_list', 'set_thread_area',
  'set_tid_address', 'setfsgid', 'setfsuid', 'setgid', 'setgroups', 'setitimer', 'setpgid', 'setpriority', 'setregid',
  'setresgid', 'setresuid', 'setreuid', 'setrlimit', 'setsid', 'setsockopt', 'setuid', 'setxattr', 'setxattrat',
  'shmat', 'shmctl', 'shmdt', 'shmget', 'shutdown', 'sigaltstack', 'signalfd', 'signalfd4', 'socketpair', 'splice',
  'stat', 'statfs', 'statmount', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range', 'syncfs', 'sysinfo',
  'tee', 'tgkill', 'time', 'timer_create', 'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_settime',
  'timerfd_create', 'timerfd_gettime', 'timerfd_settime', 'times', 'tkill', 'truncate', 'umask', 'uname', 'unlink',
  'unlinkat', 'uretprobe', 'utime', 'utimensat', 'utimes', 'vfork', 'vmsplice', 'wait4', 'waitid', 'write', 'writev',
  // Docker's rule with minKernel 4.8 (before it, ptrace could bypass seccomp); tcbuild needs 5.x.
  'process_vm_readv', 'process_vm_writev', 'ptrace',
];

/**
 * Allowed on one architecture (Docker's "arches" rules). Docker's arm list (arm_fadvise64_64,
 * arm_sync_file_range, sync_file_range2, breakpoint, cacheflush, set_tls) names 32-bit arm calls
 * that aarch64 does not have.
 */
export const ALLOWED_ON_ARCH: Record<SeccompArch, readonly string[]> = {
  x64: ['arch_prctl', 'modify_ldt'],
  arm64: [],
};

/**
 * Allowed only to a container holding the capability (Docker's "caps" rules). With
 * CAP_SYS_ADMIN, clone and clone3 are allowed whole and their rules below do not apply.
 */
export const ALLOWED_WITH_CAPABILITY: Readonly<Record<string, readonly string[]>> = {
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
    'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount', 'mount_setattr', 'move_mount', 'open_tree',
    'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount2', 'unshare',
  ],
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'init_module', 'finit_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'clock_settime'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

/**
 * A test of the first argument, as the kernel reads it: the low 32 bits (socket's family and
 * personality's persona are ints, and clone's namespace flags are all in the low word, which is
 * all the legacy clone(2) reads). Docker's rules compare all 64 bits, so a family of
 * 0x1_00000026 passes its "greater than AF_VSOCK" rule while the kernel opens AF_ALG; here it
 * does not pass.
 */
export type FirstArgumentRule =
  | { refuse: readonly number[] }
  | { allowOnly: readonly number[] }
  | { refuseFlags: number };

const AF_ALG = 38;
const AF_VSOCK = 40;

/** Allowed when the first argument passes, refused with EPERM when not. */
export const FIRST_ARGUMENT_RULES: Readonly<Record<string, FirstArgumentRule>> = {
  // Docker refuses both since profiles v0.2.1 (allows < AF_ALG, == 39, > AF_VSOCK); the issue asks AF_ALG too.
  socket: { refuse: [AF_ALG, AF_VSOCK] },
  // PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and 0xffffffff (query).
  personality: { allowOnly: [0x0, 0x8, 0x20000, 0x20008, 0xffffffff] },
  // Without CAP_SYS_ADMIN: CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET.
  clone: { refuseFlags: 0x7e020000 },
};

/**
 * Answered with another errno: clone3's flags are in memory the filter cannot read, and ENOSYS
 * makes glibc fall back to clone(2), whose flags it can.
 */
export const ERRNO_SYSCALLS: Readonly<Record<string, 'ENOSYS'>> = { clone3: 'ENOSYS' };

export type Verdict = 'allow' | { errno: 'ENOSYS' } | FirstArgumentRule;

/**
 * What the profile does with each call of `arch` for a container holding `capabilities`, by
 * number; a number it lacks gets EPERM. An unconditional allow wins over a rule, as in libseccomp.
 */
export function profileFor(arch: SeccompArch, capabilities: readonly string[]): Map<number, Verdict> {
  const numbers = SYSCALL_NUMBERS[arch];
  const verdicts = new Map<number, Verdict>();
  const decide = (name: string, verdict: Verdict) => {
    const nr = numbers[name];
    if (nr !== undefined) verdicts.set(nr, verdict);
  };
  for (const [name, rule] of Object.entries(FIRST_ARGUMENT_RULES)) decide(name, rule);
  for (const [name, errno] of Object.entries(ERRNO_SYSCALLS)) decide(name, { errno });
  const granted = capabilities.flatMap((cap) => ALLOWED_WITH_CAPABILITY[cap] ?? []);
  for (const name of [...ALLOWED_SYSCALLS, ...ALLOWED_ON_ARCH[arch], ...granted]) decide(name, 'allow');
  return verdicts;
}
