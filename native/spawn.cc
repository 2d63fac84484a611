#include "spawn.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "init.h"
#include "syscalls.h"

namespace tcbuild {
namespace {

struct Pipe {
  int read = -1;
  int write = -1;
};

void close_pipes(Pipe* pipes, size_t count, bool read_ends) {
  for (size_t i = 0; i < count; ++i) {
    int& fd = read_ends ? pipes[i].read : pipes[i].write;
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

// The stdin pipe and console socket the spec asks for; [0] is the parent's
// end, [1] the init's.
struct StdioChannels {
  int stdin_pipe[2] = {-1, -1};
  int console[2] = {-1, -1};

  int open(const ContainerSpec& spec) {
    int read_write[2];
    if (spec.stdin_pipe) {
      if (pipe2(read_write, O_CLOEXEC) < 0) return errno;
      stdin_pipe[0] = read_write[1];
      stdin_pipe[1] = read_write[0];
    }
    if (spec.terminal && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0) return errno;
    return 0;
  }

  void close_end(int end) {
    int* ends[] = {&stdin_pipe[end], &console[end]};
    for (int* fd : ends) {
      if (*fd >= 0) close(*fd);
      *fd = -1;
    }
  }
};

// Writes the child's pid to each cgroup.procs file of the spec.
int join_cgroups(const ContainerSpec& spec, pid_t pid, std::string* failed_step) {
  std::string text = std::to_string(pid);
  for (size_t i = 0; i < spec.cgroup_proc_count; ++i) {
    int fd = open(spec.cgroup_procs[i], O_WRONLY | O_CLOEXEC);
    bool ok = fd >= 0 && write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    int error = errno;
    if (fd >= 0) close(fd);
    if (!ok) {
      *failed_step = std::string("add the container's init to ") + spec.cgroup_procs[i];
      return error;
    }
  }
  return 0;
}

// Lets the child go on past wait_for_parent (init.cc), or, closing the pipe
// unwritten, makes it exit.
void release_child(Pipe* sync, bool go) {
  char byte = 1;
  if (go) while (write(sync->write, &byte, 1) < 0 && errno == EINTR) {}
  close(sync->write);
  close(sync->read);
}

}  // namespace

int spawn_container(const ContainerSpec& spec, SpawnedContainer* out, std::string* failed_step) {
  *failed_step = "create pipes";
  Pipe pipes[4];  // stdout, stderr, report, sync
  StdioChannels stdio;
  int pipe_error = stdio.open(spec);
  for (Pipe& p : pipes) {
    int fds[2];
    if (pipe_error == 0 && pipe2(fds, O_CLOEXEC) < 0) pipe_error = errno;
    if (pipe_error == 0) p = Pipe{fds[0], fds[1]};
  }
  if (pipe_error != 0) {
    close_pipes(pipes, 4, true);
    close_pipes(pipes, 4, false);
    stdio.close_end(0);
    stdio.close_end(1);
    return pipe_error;
  }

  // Blocked across clone so that no signal runs one of Node's handlers in the
  // child before init resets them; init keeps them blocked and sigwaits.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int pidfd = -1;
  // The cgroup namespace is made by the init once it is in its cgroups (init.cc),
  // so that its own cgroup is the namespace's root.
  // A network namespace to join is entered by the init (init.cc).
  unsigned long made_later = CLONE_NEWCGROUP | (spec.network_fd >= 0 ? CLONE_NEWNET : 0);
  pid_t pid = sys::clone_with_pidfd((spec.namespaces & ~made_later) | SIGCHLD, &pidfd);
  if (pid == 0) {
    run_container_init(spec, InitFds{pipes[0].write, pipes[1].write, pipes[2].write, pipes[3].read, pipes[3].write,
                                     stdio.stdin_pipe[1], stdio.console[1]});
  }
  int clone_error = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  close_pipes(pipes, 3, false);
  stdio.close_end(1);
  if (pid < 0) {
    close_pipes(pipes, 3, true);
    stdio.close_end(0);
    release_child(&pipes[3], false);
    *failed_step = "clone";
    return clone_error;
  }
  if (int error = join_cgroups(spec, pid, failed_step)) {
    release_child(&pipes[3], false);
    siginfo_t info{};
    sys::pidfd_send_signal(pidfd, SIGKILL);
    while (sys::wait_pidfd(pidfd, &info, WEXITED) < 0 && errno == EINTR) {}
    close(pidfd);
    close_pipes(pipes, 3, true);
    stdio.close_end(0);
    return error;
  }
  release_child(&pipes[3], true);
  *out = SpawnedContainer{pid, pidfd, pipes[0].read, pipes[1].read, pipes[2].read, stdio.stdin_pipe[0], stdio.console[0]};
  return 0;
}

}  // namespace tcbuild
