#include "seccomp.h"

#include <linux/seccomp.h>

#include "syscalls.h"

namespace tcbuild {

int load_seccomp_filter(const sock_filter* program, size_t length) {
  sock_fprog prog{static_cast<unsigned short>(length), const_cast<sock_filter*>(program)};
  return sys::seccomp(SECCOMP_SET_MODE_FILTER, 0, &prog);
}

}  // namespace tcbuild
