// The container's workload: the process that runs spec.argv. It is forked by
// the container's init, inside the container's root.
#pragma once

#include "spec.h"

namespace tcbuild {

// Takes on the console (console.h; -1: none), identity, limits and working
// directory from `spec`, then execs spec.argv. On failure it reports the step
// and exits.
[[noreturn]] void exec_workload(const ContainerSpec& spec, int console);

}  // namespace tcbuild
