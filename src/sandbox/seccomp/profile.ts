// Docker's default seccomp profile, for a container with Docker's default
// capabilities: what it refuses, written as the exceptions to "allow".
// (Docker's profile is an allow-list; every call it lacks on these kernels is
// one of these, and all fail with EPERM there too.)

/** Refused with EPERM: mount and namespace changes, kernel modules, keyrings, BPF, tracing, clocks, ... */
export const DENIED_SYSCALLS: readonly string[] = [
  // mounts and namespaces
  'mount', 'umount2', 'pivot_root', 'unshare', 'setns', 'fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount',
  'open_tree', 'mount_setattr',
  // kernel, modules, reboot, swap, accounting, quotas
  'init_module', 'finit_module', 'delete_module', 'create_module', 'query_module', 'get_kernel_syms',
  'kexec_load', 'kexec_file_load', 'reboot', 'swapon', 'swapoff', 'acct', 'quotactl', 'quotactl_fd',
  'nfsservctl', 'lookup_dcookie', 'sysfs', '_sysctl', 'uselib', 'ustat', 'syslog', 'vhangup',
  // keyrings, BPF, perf, userfaultfd, io_uring, fanotify
  'keyctl', 'add_key', 'request_key', 'bpf', 'perf_event_open', 'userfaultfd', 'io_uring_setup',
  'io_uring_enter', 'io_uring_register', 'fanotify_init',
  // clocks, host names, NUMA policy, raw I/O ports, file handles
  'settimeofday', 'clock_settime', 'clock_adjtime', 'sethostname', 'setdomainname', 'mbind', 'set_mempolicy',
  'get_mempolicy', 'migrate_pages', 'move_pages', 'iopl', 'ioperm', 'open_by_handle_at', 'name_to_handle_at',
];

/** Answered with ENOSYS, so that glibc falls back to clone(2), whose flags the filter can see. */
export const ENOSYS_SYSCALLS: readonly string[] = ['clone3'];

/** clone(2) may not create namespaces: CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

/** personality(2) only with these personas (Linux, 32-bit address space, UNAME26, ..., query). */
export const ALLOWED_PERSONALITIES: readonly number[] = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];
