// OCI runtime-spec mount options ("ro", "rbind", "rprivate", "mode=755", ...)
// split into mount(2) flags, propagation flags and filesystem data, as runc does.
#pragma once

#include <string>
#include <vector>

namespace tcbuild {

struct MountOptions {
  unsigned long flags = 0;
  unsigned long propagation = 0;
  std::string data;  // options the kernel flags do not cover, comma-separated
};

MountOptions parse_mount_options(const std::vector<std::string>& options);

}  // namespace tcbuild
