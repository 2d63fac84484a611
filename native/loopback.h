#pragma once

namespace tcbuild {

// Sets the "lo" interface of the current network namespace up. Returns 0, or
// -1 with errno set.
int bring_loopback_up();

}  // namespace tcbuild
