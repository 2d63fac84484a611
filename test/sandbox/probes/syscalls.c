// Tries system calls the sandbox's seccomp filter must refuse, and prints
// "name errno" for each (0 when the call succeeded).
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void report(const char* name, long rc) { printf("%s %s\n", name, rc < 0 ? strerrorname_np(errno) : "0"); }

int main(void) {
  report("keyctl", syscall(SYS_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0));
  report("add_key", syscall(SYS_add_key, "user", "probe", "x", 1, -3));
  report("bpf", syscall(SYS_bpf, 0, NULL, 0));
  report("unshare", syscall(SYS_unshare, CLONE_NEWUSER));
  report("clone3", syscall(SYS_clone3, NULL, 0));
  report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
  long child = syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, NULL, NULL, NULL, NULL);
  if (child == 0) _exit(0);
  report("clone_newns", child > 0 ? 0 : child);
  report("personality_bad", syscall(SYS_personality, 0x0040000));
  report("personality_query", syscall(SYS_personality, 0xffffffff));
  return 0;
}
