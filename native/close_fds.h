#pragma once

namespace tcbuild {

// Closes every file descriptor numbered `first` or above.
void close_fds_from(int first);

}  // namespace tcbuild
