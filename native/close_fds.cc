#include "close_fds.h"

#include <sys/resource.h>
#include <unistd.h>

#include "syscalls.h"

namespace tcbuild {

void close_fds_from(int first) {
  if (sys::close_range(static_cast<unsigned int>(first), ~0U) == 0) return;
  // close_range(2) is Linux 5.9+; before that, close every possible fd.
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  for (rlim_t fd = static_cast<rlim_t>(first); fd < limit.rlim_cur; ++fd) close(static_cast<int>(fd));
}

}  // namespace tcbuild
