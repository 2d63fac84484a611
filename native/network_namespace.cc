#include "network_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "loopback.h"

namespace tcbuild {

int create_network_namespace() {
  int fd = -1;
  int error = 0;
  // unshare(2) moves only the calling thread, which exits right after.
  std::thread maker([&fd, &error] {
    if (unshare(CLONE_NEWNET) < 0 || bring_loopback_up() < 0 ||
        (fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)) < 0) {
      error = errno;
    }
  });
  maker.join();
  if (error != 0) {
    if (fd >= 0) close(fd);
    errno = error;
    return -1;
  }
  return fd;
}

}  // namespace tcbuild
