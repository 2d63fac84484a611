// System call numbers of the calls the default profile names, per Node
// architecture (from the kernel's asm/unistd_64.h and asm-generic/unistd.h).
// A name missing for an architecture does not exist there.

export type SeccompArch = 'x64' | 'arm64';

export const SYSCALL_NUMBERS: Record<SeccompArch, Record<string, number>> = {
  x64: {
    _sysctl: 156, acct: 163, add_key: 248, bpf: 321, clock_adjtime: 305, clock_settime: 227, clone: 56, clone3: 435,
    create_module: 174, delete_module: 176, fanotify_init: 300, finit_module: 313, fsconfig: 431, fsmount: 432,
    fsopen: 430, fspick: 433, get_kernel_syms: 177, get_mempolicy: 239, init_module: 175, io_uring_enter: 426,
    io_uring_register: 427, io_uring_setup: 425, ioperm: 173, iopl: 172, kexec_file_load: 320, kexec_load: 246,
    keyctl: 250, lookup_dcookie: 212, mbind: 237, migrate_pages: 256, mount: 165, mount_setattr: 442,
    move_mount: 429, move_pages: 279, name_to_handle_at: 303, nfsservctl: 180, open_by_handle_at: 304,
    open_tree: 428, perf_event_open: 298, personality: 135, pivot_root: 155, query_module: 178, quotactl: 179,
    quotactl_fd: 443, reboot: 169, request_key: 249, set_mempolicy: 238, setdomainname: 171, sethostname: 170,
    setns: 308, settimeofday: 164, swapoff: 168, swapon: 167, sysfs: 139, syslog: 103, umount2: 166, unshare: 272,
    uselib: 134, userfaultfd: 323, ustat: 136, vhangup: 153,
  },
  arm64: {
    acct: 89, add_key: 217, bpf: 280, clock_adjtime: 266, clock_settime: 112, clone: 220, clone3: 435,
    delete_module: 106, fanotify_init: 262, finit_module: 273, fsconfig: 431, fsmount: 432, fsopen: 430, fspick: 433,
    get_mempolicy: 236, init_module: 105, io_uring_enter: 426, io_uring_register: 427, io_uring_setup: 425,
    kexec_file_load: 294, kexec_load: 104, keyctl: 219, lookup_dcookie: 18, mbind: 235, migrate_pages: 238,
    mount: 40, mount_setattr: 442, move_mount: 429, move_pages: 239, name_to_handle_at: 264, nfsservctl: 42,
    open_by_handle_at: 265, open_tree: 428, perf_event_open: 241, personality: 92, pivot_root: 41, quotactl: 60,
    quotactl_fd: 443, reboot: 142, request_key: 218, set_mempolicy: 237, setdomainname: 162, sethostname: 161,
    setns: 268, settimeofday: 170, swapoff: 225, swapon: 224, syslog: 116, umount2: 39, unshare: 97,
    userfaultfd: 282, vhangup: 58,
  },
};

/** AUDIT_ARCH_* of each architecture, as seccomp_data.arch reports it. */
export const AUDIT_ARCH: Record<SeccompArch, number> = { x64: 0xc000003e, arm64: 0xc00000b7 };

/** On x86_64, bit 30 of the number marks an x32-ABI call. */
export const X32_SYSCALL_BIT = 0x40000000;
