// The container's init: PID 1 of the new PID namespace, made by clone in
// spawn.cc. It is the addon's own code, never a host binary.
#pragma once

#include "spec.h"

namespace tcbuild {

// Write ends of the pipes to the parent, in the numbering inherited from it.
struct InitFds {
  int stdout_fd;
  int stderr_fd;
  int report_fd;
  // A byte arrives on sync_read once the parent has put the init in its cgroups.
  int sync_read;
  int sync_write;  // the child's copy, closed first
  int stdin_fd;        // read end of the stdin pipe, or -1: /dev/null
  int console_socket;  // where the console's master goes (console.h), or -1: no console
};

// Sets up the container, forks the workload, then reaps every process and
// forwards signals to the workload until it exits; exits with its status.
[[noreturn]] void run_container_init(const ContainerSpec& spec, const InitFds& fds);

}  // namespace tcbuild
