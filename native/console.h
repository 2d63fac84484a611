// The container's console (with a terminal in the spec): a pseudo-terminal of
// the container's own devpts instance, as runc makes one. The init opens it
// once /dev/pts is mounted and sends the master to tcbuild over a socket; the
// workload takes the slave as its controlling terminal and stdio.
#pragma once

#include <sys/types.h>

#include "spec.h"

namespace tcbuild {

// In the init, inside the container's root: opens a pty of the spec's size,
// sends its master over `socket` (then closes both) and returns the slave.
int open_console(const ContainerSpec& spec, int socket);

// In the workload: a new session whose controlling terminal is `terminal`,
// which becomes stdin, stdout and stderr, owned by `owner` (as runc does).
void attach_console(int terminal, uid_t owner);

}  // namespace tcbuild
