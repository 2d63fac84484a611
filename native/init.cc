#include "init.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "close_fds.h"
#include "console.h"
#include "loopback.h"
#include "oom_score.h"
#include "report.h"
#include "rootfs.h"
#include "syscalls.h"
#include "workload.h"

namespace tcbuild {
namespace {

constexpr int kForwardedSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

// What `ps` shows for PID 1, instead of the command line of Node.
constexpr char kInitName[] = "tcbuild-init";

// Where the init keeps the console socket until it sends the console.
constexpr int kConsoleSocketFd = kReportFd + 1;

// Moves the pipes to stdin, stdout, stderr and kReportFd (and the console
// socket to kConsoleSocketFd) and closes every other fd inherited from Node.
// Until this is done nothing can be reported.
void install_fds(const InitFds& fds) {
  // Node keeps 0 to 4 open for its life (stdio, then its event loop's epoll
  // fd and wakeup pipe), so the pipes are numbered 5 and above.
  bool ok = dup2(fds.stdout_fd, STDOUT_FILENO) >= 0 && dup2(fds.stderr_fd, STDERR_FILENO) >= 0 &&
            (fds.stdin_fd < 0 || dup2(fds.stdin_fd, STDIN_FILENO) >= 0) &&
            (fds.report_fd == kReportFd || dup3(fds.report_fd, kReportFd, O_CLOEXEC) >= 0) &&
            (fds.console_socket < 0 || dup3(fds.console_socket, kConsoleSocketFd, O_CLOEXEC) >= 0);
  if (!ok) _exit(kSetupFailedExitCode);
  close_fds_from(fds.console_socket < 0 ? kReportFd + 1 : kConsoleSocketFd + 1);
}

// The parent may have died before PR_SET_PDEATHSIG took effect. It holds the
// only read end of the report pipe, so its death shows as POLLERR there.
bool parent_is_gone() {
  pollfd report{kReportFd, 0, 0};
  return poll(&report, 1, 0) == 1 && (report.revents & POLLERR) != 0;
}

// Node's handlers are not ours to run. SIG_IGN is reset too: it would survive
// exec (Node ignores SIGPIPE, which the workload must not).
void reset_signal_dispositions() {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &default_action, nullptr);
  }
}

// Reads fields 48-51 of /proc/self/stat: where the kernel finds this
// process's command line and environment (still those of Node).
bool find_args_and_env(unsigned long* arg_start, unsigned long* arg_end, unsigned long* env_start,
                       unsigned long* env_end) {
  char stat[1024];
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t len = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (len <= 0) return false;
  stat[len] = '\0';
  const char* p = strrchr(stat, ')');  // the command name, field 2, may contain spaces
  if (p == nullptr) return false;
  unsigned long* wanted[] = {arg_start, arg_end, env_start, env_end};
  for (int field = 3; field <= 51 && *p != '\0'; ++field) {
    p = strchr(p, ' ');
    if (p == nullptr) return false;
    ++p;
    if (field >= 48) *wanted[field - 48] = strtoul(p, nullptr, 10);
  }
  return *arg_start < *arg_end && *env_start <= *env_end;
}

// This process is a copy of Node: keep its memory, command line and
// environment from the workload. Non-dumpable makes /proc/1/* other than the
// command line readable only with CAP_SYS_PTRACE. The command line and
// environment are overwritten in our copy of the memory, which is where
// /proc/1/cmdline and /proc/1/environ read them.
void hide_node_process() {
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  prctl(PR_SET_NAME, kInitName, 0, 0, 0);
  unsigned long arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
  if (!find_args_and_env(&arg_start, &arg_end, &env_start, &env_end)) return;
  memset(reinterpret_cast<void*>(arg_start), 0, arg_end - arg_start);
  memset(reinterpret_cast<void*>(env_start), 0, env_end - env_start);
  memcpy(reinterpret_cast<void*>(arg_start), kInitName, std::min(sizeof kInitName, arg_end - arg_start - 1));
}

void redirect_stdin_to_dev_null() {
  int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(errno, "open /dev/null");
  if (dup2(fd, STDIN_FILENO) < 0) fail(errno, "redirect stdin to /dev/null");
  close(fd);
}

void set_up_container(const ContainerSpec& spec) {
  umask(0);  // modes given in the spec are meant exactly
  enter_container_rootfs(spec);
  if ((spec.namespaces & CLONE_NEWUTS) != 0 && sethostname(spec.hostname, strlen(spec.hostname)) < 0) {
    fail(errno, "sethostname ", spec.hostname);
  }
  if ((spec.namespaces & CLONE_NEWNET) != 0 && bring_loopback_up() < 0) {
    fail(errno, "bring up the loopback interface");
  }
}

int exit_code_of(int wait_status) {
  // PID 1 cannot kill itself with a signal (the kernel ignores it), so a
  // signal death becomes 128+signal, the shell's convention; the parent reads
  // the exact status from the report pipe.
  return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

[[noreturn]] void supervise(pid_t workload) {
  // Signals stay blocked (as inherited from spawn.cc) and are taken with
  // sigwaitinfo. Blocked, they also reach PID 1 although it has no handlers.
  sigset_t awaited;
  sigemptyset(&awaited);
  sigaddset(&awaited, SIGCHLD);
  for (int sig : kForwardedSignals) sigaddset(&awaited, sig);
  for (;;) {
    int sig = sigwaitinfo(&awaited, nullptr);
    if (sig < 0) continue;
    if (sig != SIGCHLD) {
      kill(workload, sig);
      continue;
    }
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      if (pid != workload) continue;
      report_workload_exit(status);
      _exit(exit_code_of(status));
    }
  }
}

}  // namespace

// Nothing may run before the init is in its cgroups: a process forked
// earlier would stay outside them.
void wait_for_parent(const InitFds& fds) {
  close(fds.sync_write);
  char byte;
  ssize_t n;
  while ((n = read(fds.sync_read, &byte, 1)) < 0 && errno == EINTR) {
  }
  if (n != 1) _exit(kSetupFailedExitCode);
  close(fds.sync_read);
}

void enter_cgroup_namespace(const ContainerSpec& spec) {
  if ((spec.namespaces & CLONE_NEWCGROUP) != 0 && unshare(CLONE_NEWCGROUP) < 0) fail(errno, "create the cgroup namespace");
}

void run_container_init(const ContainerSpec& spec, const InitFds& fds) {
  prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  wait_for_parent(fds);
  // Before install_fds, which closes the namespace's fd; reported after it, once the report pipe is in place.
  int join_error = spec.network_fd >= 0 && setns(spec.network_fd, CLONE_NEWNET) < 0 ? errno : 0;
  install_fds(fds);
  if (parent_is_gone()) _exit(kSetupFailedExitCode);
  if (join_error != 0) fail(join_error, "join the build's network namespace");
  reset_signal_dispositions();
  hide_node_process();
  enter_cgroup_namespace(spec);
  shield_from_oom_killer();
  set_up_container(spec);
  if (fds.stdin_fd < 0) redirect_stdin_to_dev_null();
  int console = fds.console_socket < 0 ? -1 : open_console(spec, kConsoleSocketFd);
  pid_t workload = sys::fork_process();
  if (workload < 0) fail(errno, "fork the workload");
  if (workload == 0) exec_workload(spec, console);
  if (console >= 0) close(console);
  supervise(workload);
}

}  // namespace tcbuild
