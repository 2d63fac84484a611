#include "spawn.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
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

}  // namespace

int spawn_container(const ContainerSpec& spec, SpawnedContainer* out) {
  Pipe pipes[3];  // stdout, stderr, report
  for (Pipe& p : pipes) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0) {
      int error = errno;
      close_pipes(pipes, 3, true);
      close_pipes(pipes, 3, false);
      return error;
    }
    p = Pipe{fds[0], fds[1]};
  }

  // Blocked across clone so that no signal runs one of Node's handlers in the
  // child before init resets them; init keeps them blocked and sigwaits.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int pidfd = -1;
  pid_t pid = sys::clone_with_pidfd(spec.namespaces | SIGCHLD, &pidfd);
  if (pid == 0) run_container_init(spec, InitFds{pipes[0].write, pipes[1].write, pipes[2].write});
  int clone_error = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);

  close_pipes(pipes, 3, false);
  if (pid < 0) {
    close_pipes(pipes, 3, true);
    return clone_error;
  }
  *out = SpawnedContainer{pid, pidfd, pipes[0].read, pipes[1].read, pipes[2].read};
  return 0;
}

}  // namespace tcbuild
