// Creates the container's init process in new namespaces (parent side).
#pragma once

#include <sys/types.h>

#include <string>

#include "spec.h"

namespace tcbuild {

// What the parent keeps: the init process and the read ends of its pipes, all
// close-on-exec.
struct SpawnedContainer {
  pid_t pid;
  int pidfd;
  int stdout_fd;
  int stderr_fd;
  int report_fd;
  int stdin_fd;        // write end of the workload's stdin, or -1 (spec.stdin_pipe)
  int console_socket;  // receives the console's master (console.h), or -1 (spec.terminal)
};

// Returns 0, or an errno with every fd closed again, the child gone and *failed_step
// naming what failed ("clone", "add the init to cgroup ...").
int spawn_container(const ContainerSpec& spec, SpawnedContainer* out, std::string* failed_step);

}  // namespace tcbuild
