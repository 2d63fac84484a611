// Thin wrappers for system calls glibc 2.36 does not wrap (or wraps in ways
// that are unsafe after a raw clone). All return -1 and set errno on failure.
#pragma once

#include <linux/capability.h>
#include <linux/openat2.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tcbuild::sys {

// clone(2) without a new stack, i.e. fork-like, returning a pidfd of the
// child through *pidfd. glibc's fork() is avoided on purpose: it runs atfork
// handlers and takes malloc locks that another thread may hold. The third
// argument is parent_tid on every architecture Node supports on Linux.
inline pid_t clone_with_pidfd(unsigned long flags, int* pidfd) {
  return static_cast<pid_t>(syscall(SYS_clone, flags | CLONE_PIDFD, nullptr, pidfd, nullptr, nullptr));
}

// A plain fork as a raw clone, safe to call in a process made by clone_with_pidfd.
inline pid_t fork_process() {
  return static_cast<pid_t>(syscall(SYS_clone, SIGCHLD, nullptr, nullptr, nullptr, nullptr));
}

inline int openat2(int dirfd, const char* path, const open_how& how) {
  return static_cast<int>(syscall(SYS_openat2, dirfd, path, &how, sizeof how));
}

inline int pivot_root(const char* new_root, const char* put_old) {
  return static_cast<int>(syscall(SYS_pivot_root, new_root, put_old));
}

inline int close_range(unsigned int first, unsigned int last) {
  return static_cast<int>(syscall(SYS_close_range, first, last, 0));
}

inline int pidfd_send_signal(int pidfd, int sig) {
  return static_cast<int>(syscall(SYS_pidfd_send_signal, pidfd, sig, nullptr, 0));
}

// Identity changes as raw system calls: glibc's wrappers broadcast the change
// to every thread glibc knows of, and after a raw clone those threads are gone.
inline int setgroups(size_t count, const gid_t* groups) {
  return static_cast<int>(syscall(SYS_setgroups, count, groups));
}
inline int setresgid(gid_t gid) { return static_cast<int>(syscall(SYS_setresgid, gid, gid, gid)); }
inline int setresuid(uid_t uid) { return static_cast<int>(syscall(SYS_setresuid, uid, uid, uid)); }

inline int capset(__user_cap_header_struct* header, __user_cap_data_struct* data) {
  return static_cast<int>(syscall(SYS_capset, header, data));
}

inline int seccomp(unsigned int operation, unsigned int flags, void* args) {
  return static_cast<int>(syscall(SYS_seccomp, operation, flags, args));
}

// waitid(P_PIDFD, ...); glibc 2.36 headers do not name P_PIDFD.
inline int wait_pidfd(int pidfd, siginfo_t* info, int options) {
  constexpr int kPidfdIdType = 3;
  return waitid(static_cast<idtype_t>(kPidfdIdType), static_cast<id_t>(pidfd), info, options);
}

// The raw getcwd(2): unlike glibc's, it returns paths outside the root as
// "(unreachable)/..." instead of hiding them behind ENOENT.
inline long getcwd(char* buf, size_t size) { return syscall(SYS_getcwd, buf, size); }

}  // namespace tcbuild::sys
