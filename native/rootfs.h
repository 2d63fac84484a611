// The container's filesystem: mounted inside the child's own (private) mount
// namespace, then made its root with pivot_root.
#pragma once

#include "spec.h"

namespace tcbuild {

// Mounts spec.rootfs_mounts on spec.mountpoint, spec.mounts inside it, creates
// spec.devices and the standard /dev symlinks, then pivots into it. On
// failure it reports the step and exits.
void enter_container_rootfs(const ContainerSpec& spec);

}  // namespace tcbuild
