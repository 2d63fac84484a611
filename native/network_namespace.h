#pragma once

namespace tcbuild {

// Creates a network namespace with its loopback interface up, without moving
// any thread of this process into it (a short-lived thread of its own does the
// unshare). Returns an O_CLOEXEC fd that keeps the namespace alive, or -1 with
// errno set.
int create_network_namespace();

}  // namespace tcbuild
