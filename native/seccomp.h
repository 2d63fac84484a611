// Loading the seccomp filter compiled by src/sandbox/seccomp/ (classic BPF).
#pragma once

#include <linux/filter.h>

#include <cstddef>

namespace tcbuild {

// Without no_new_privs this needs CAP_SYS_ADMIN. Returns 0 or -1 with errno.
int load_seccomp_filter(const sock_filter* program, size_t length);

}  // namespace tcbuild
