// Paths inside the container's root filesystem, resolved as if that directory
// were "/" (openat2 RESOLVE_IN_ROOT): neither symlinks nor ".." lead out of it,
// so a hostile image cannot make us create or mount anything on the host.
// `root_fd` is an fd of the root directory; paths are container paths.
// Functions return an O_PATH fd (close-on-exec), or -1 with errno set.
#pragma once

namespace tcbuild {

int open_in_root(int root_fd, const char* path, int flags);

// `path` below the host directory `root` as an O_PATH fd, refusing any
// symlink, magic link or ".." on the way (openat2 RESOLVE_BENEATH).
int open_beneath(const char* root, const char* path);

// The directory at `path`, created (0755, with its parents) if missing.
int make_dirs_in_root(int root_fd, const char* path);

// The file at `path`, created empty (0644, with its parents) if missing.
int make_file_in_root(int root_fd, const char* path);

// The parent directory of `path`, created if missing; *name is set to the
// last component of `path`, for the *at() system calls.
int make_parent_in_root(int root_fd, const char* path, const char** name);

}  // namespace tcbuild
