// Makes system calls the sandbox's seccomp filter must refuse or allow, and prints one line
// "name result" for each: 0 when the call succeeded, else its errno's name. Each refused call
// is one that fails with another errno (or succeeds) when no filter is in the way, so an EPERM
// here is the filter's. Builds for x86_64 and aarch64 (gcc -static).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef AF_ALG
#define AF_ALG 38
#endif

static void report(const char* name, long rc) {
  printf("%s %s\n", name, rc < 0 ? strerrorname_np(errno) : "0");
  fflush(stdout);
}

static long closing(long fd) {
  if (fd >= 0) close((int)fd);
  return fd < 0 ? -1 : 0;
}

// clone(2) as a fork: the child exits at once.
static long clone_with(unsigned long flags) {
  long child = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child == 0) _exit(0);
  if (child > 0) waitpid((pid_t)child, NULL, 0);
  return child < 0 ? -1 : 0;
}

static void refused(void) {
  report("mount", syscall(SYS_mount, "none", "/nonexistent", "tmpfs", 0, NULL));
  report("umount2", syscall(SYS_umount2, "/nonexistent", 0));
  report("unshare_newuser", syscall(SYS_unshare, CLONE_NEWUSER));
  report("unshare_newns", syscall(SYS_unshare, CLONE_NEWNS));
  report("setns", syscall(SYS_setns, -1, 0));
  report("fsopen", syscall(SYS_fsopen, "tmpfs", 0));
  report("open_tree", syscall(SYS_open_tree, -1, "/", 0));
  report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
  report("add_key", syscall(SYS_add_key, "user", "probe", "x", 1, -3));
  report("request_key", syscall(SYS_request_key, "user", "probe", NULL, 0));
  report("bpf", syscall(SYS_bpf, 0, NULL, 0));
  report("perf_event_open", syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0));
  report("userfaultfd", syscall(SYS_userfaultfd, 0));
  report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
  report("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
  report("open_by_handle_at", syscall(SYS_open_by_handle_at, -1, NULL, 0));
  report("kcmp", syscall(SYS_kcmp, getpid(), getpid(), 0, 0, 0));
  report("pidfd_getfd", syscall(SYS_pidfd_getfd, -1, 0, 0));
  report("process_madvise", syscall(SYS_process_madvise, -1, NULL, 0, 0, 0));
  report("syslog", syscall(SYS_syslog, 10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0));
  report("swapon", syscall(SYS_swapon, "/nonexistent", 0));
  report("socket_af_vsock", closing(syscall(SYS_socket, AF_VSOCK, SOCK_STREAM, 0)));
  report("socket_af_alg", closing(syscall(SYS_socket, AF_ALG, SOCK_SEQPACKET, 0)));
  // The kernel reads the family as an int: the high word must not carry AF_ALG past the filter.
  report("socket_af_alg_high_word", closing(syscall(SYS_socket, 0x100000000L | AF_ALG, SOCK_SEQPACKET, 0)));
  report("personality_addr_limit_32bit", syscall(SYS_personality, ADDR_LIMIT_32BIT));
  report("personality_addr_no_randomize", syscall(SYS_personality, ADDR_NO_RANDOMIZE));
  report("clone_newns", clone_with(CLONE_NEWNS));
  report("clone_newuser", clone_with(CLONE_NEWUSER));
  report("clone_newnet", clone_with(CLONE_NEWNET));
  report("clone3", syscall(SYS_clone3, NULL, 0));
  report("syscall_1000", syscall(1000));
#ifdef __x86_64__
  report("x32_getpid", syscall(0x40000000 | SYS_getpid));
  // getpid through the i386 ABI (number 20).
  long i386_rc;
  __asm__ volatile("int $0x80" : "=a"(i386_rc) : "a"(20L) : "memory");
  errno = i386_rc < 0 ? (int)-i386_rc : 0;
  report("i386_getpid", i386_rc < 0 ? -1 : 0);
#endif
}

static void allowed(void) {
  report("getppid", syscall(SYS_getppid));
  struct statx stx;
  report("statx", syscall(SYS_statx, AT_FDCWD, "/", 0, STATX_BASIC_STATS, &stx));
  report("faccessat2", syscall(SYS_faccessat2, AT_FDCWD, "/", R_OK, AT_EACCESS));
  struct open_how how = {.flags = O_RDONLY | O_DIRECTORY, .resolve = RESOLVE_IN_ROOT};
  report("openat2", closing(syscall(SYS_openat2, AT_FDCWD, "/", &how, sizeof how)));
  report("close_range", syscall(SYS_close_range, 1000, 2000, 0));
  report("epoll_pwait2", syscall(SYS_epoll_pwait2, -1, NULL, 1, NULL, NULL, 0));
  report("landlock_create_ruleset", syscall(SYS_landlock_create_ruleset, NULL, 0, 1 /* VERSION */));
  report("pidfd_open", closing(syscall(SYS_pidfd_open, getpid(), 0)));
  report("process_mrelease", syscall(SYS_process_mrelease, -1, 0));
  report("membarrier", syscall(SYS_membarrier, 0 /* QUERY */, 0, 0));
  report("memfd_create", closing(syscall(SYS_memfd_create, "probe", 0)));
  char random[8];
  report("getrandom", syscall(SYS_getrandom, random, sizeof random, 0));
  report("chroot", syscall(SYS_chroot, "/"));
  report("ptrace", syscall(SYS_ptrace, 3 /* PTRACE_PEEKUSER */, 999999, 0, 0));
  report("socket_af_unix", closing(syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0)));
  report("socket_af_inet", closing(syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0)));
  report("socket_af_netlink", closing(syscall(SYS_socket, AF_NETLINK, SOCK_RAW, 0)));
  report("personality_query", syscall(SYS_personality, 0xffffffff));
  report("personality_linux", syscall(SYS_personality, PER_LINUX));
  report("clone_fork", clone_with(0));
  report("fork", closing(fork() == 0 ? (_exit(0), 0) : (wait(NULL), 0)));
}

int main(void) {
  refused();
  allowed();
  return 0;
}
