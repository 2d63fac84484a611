// Docker's masked and read-only paths (/proc/kcore, /proc/sys, ...), applied
// inside the container's root after /proc and /sys are mounted.
#pragma once

#include "spec.h"

namespace tcbuild {

// Masks spec.masked_paths (a file gets /dev/null bound over it, a directory
// an empty read-only tmpfs) and binds spec.readonly_paths read-only over
// themselves. Paths the container lacks are skipped. On failure it reports
// the step and exits.
void protect_paths(const ContainerSpec& spec, int root_fd);

}  // namespace tcbuild
