#include "workload.h"

#include <limits.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "capabilities.h"
#include "close_fds.h"
#include "console.h"
#include "fixed_text.h"
#include "oom_score.h"
#include "report.h"
#include "seccomp.h"
#include "syscalls.h"

namespace tcbuild {
namespace {

// Raising a hard limit needs CAP_SYS_RESOURCE, which tcbuild may lack (when
// run in a container itself); the limit then stays at the current hard limit.
void apply_rlimits(const ContainerSpec& spec) {
  for (size_t i = 0; i < spec.rlimit_count; ++i) {
    const RlimitEntry& entry = spec.rlimits[i];
    rlimit limit{entry.soft, entry.hard};
    if (setrlimit(entry.resource, &limit) == 0) continue;
    rlimit current{};
    if (errno == EPERM && getrlimit(entry.resource, &current) == 0 && current.rlim_max < limit.rlim_max) {
      limit.rlim_max = current.rlim_max;
      if (limit.rlim_cur > limit.rlim_max) limit.rlim_cur = limit.rlim_max;
      if (setrlimit(entry.resource, &limit) == 0) continue;
    }
    fail(errno, "set ", entry.name);
  }
}

// mkdir -p, as docker does for a missing WORKDIR. The root is already the
// container's, so no path can lead out of it.
void make_cwd(const char* cwd) {
  FixedText<PATH_MAX> path;
  path << cwd;
  if (path.truncated()) fail(ENAMETOOLONG, "create the working directory ", cwd);
  char* text = const_cast<char*>(path.c_str());
  for (size_t i = 1; i <= path.size(); ++i) {
    if (text[i] != '/' && text[i] != '\0') continue;
    char saved = text[i];
    text[i] = '\0';
    if (mkdir(text, 0755) < 0 && errno != EEXIST) fail(errno, "create the working directory ", cwd);
    text[i] = saved;
  }
}

void enter_cwd(const char* cwd) {
  make_cwd(cwd);
  if (chdir(cwd) < 0) fail(errno, "chdir to the working directory ", cwd);
  // A working directory outside the root (CVE-2024-21626, reached through a
  // leaked directory fd) reads as "(unreachable)/...".
  char actual[PATH_MAX];
  if (sys::getcwd(actual, sizeof actual) < 0) fail(errno, "getcwd");
  if (actual[0] != '/') fail(EPERM, "the working directory ", cwd, " is outside the container");
}

void load_seccomp(const ContainerSpec& spec) {
  if (spec.seccomp_filter == nullptr) return;
  if (load_seccomp_filter(spec.seccomp_filter, spec.seccomp_filter_length) < 0) fail(errno, "load the seccomp filter");
}

// Keeps the permitted set across the switch to another uid, so that the
// capabilities of the spec are applied whatever the user; exec then computes
// them as the kernel does for that user (none for non-root without file caps).
void set_identity(const ContainerSpec& spec) {
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) fail(errno, "keep capabilities across setuid");
  if (sys::setgroups(spec.group_count, spec.groups) < 0) fail(errno, "setgroups");
  if (sys::setresgid(spec.gid) < 0) fail(errno, "setgid ", static_cast<long long>(spec.gid));
  if (sys::setresuid(spec.uid) < 0) fail(errno, "setuid ", static_cast<long long>(spec.uid));
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) fail(errno, "reset keep-capabilities");
}

void drop_privileges(const ContainerSpec& spec) {
  if (spec.no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) fail(errno, "set no_new_privs");
  if (drop_bounding_set(spec.cap_bounding) < 0) fail(errno, "drop capabilities from the bounding set");
  // Without no_new_privs, loading the filter needs CAP_SYS_ADMIN, held only until set_capabilities.
  if (!spec.no_new_privileges) load_seccomp(spec);
  set_identity(spec);
  if (set_capabilities(spec.cap_effective, spec.cap_permitted) < 0) fail(errno, "set capabilities");
}

// execvpe(3) without its allocations, and without its fallback of running a
// script that lacks a "#!" line through /bin/sh (runc does not do that either).
[[noreturn]] void exec_from_path(const ContainerSpec& spec) {
  const char* file = spec.argv[0];
  if (strchr(file, '/') != nullptr) {
    execve(file, spec.argv, spec.envp);
    fail(errno, "exec \"", file, "\"");
  }
  bool denied = false;
  for (const char* dir = spec.path;; ++dir) {
    size_t len = strcspn(dir, ":");
    FixedText<PATH_MAX> candidate;
    if (len == 0) {
      candidate << file;  // an empty PATH entry is the working directory
    } else {
      candidate.append(dir, len) << "/" << file;
    }
    if (!candidate.truncated()) {
      execve(candidate.c_str(), spec.argv, spec.envp);
      if (errno == EACCES) {
        denied = true;
      } else if (errno != ENOENT && errno != ENOTDIR) {
        fail(errno, "exec \"", file, "\"");
      }
    }
    dir += len;
    if (*dir == '\0') break;
  }
  fail(denied ? EACCES : ENOENT, "exec \"", file, "\"");
}

}  // namespace

void exec_workload(const ContainerSpec& spec, int console) {
  if (console >= 0) attach_console(console, spec.uid);  // before set_identity: chown needs privilege
  restore_oom_score();
  apply_rlimits(spec);  // before set_identity: raising a hard limit needs privilege
  enter_cwd(spec.cwd);
  drop_privileges(spec);
  umask(spec.umask);
  close_fds_from(kReportFd + 1);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // With no_new_privs the filter can come last, so fewer of our own calls go through it.
  if (spec.no_new_privileges) load_seccomp(spec);
  exec_from_path(spec);
}

}  // namespace tcbuild
