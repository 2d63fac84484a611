#include "path_in_root.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fixed_text.h"
#include "syscalls.h"

namespace tcbuild {
namespace {

using PathText = FixedText<PATH_MAX>;

constexpr unsigned long long kResolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
// Bounds the recursion: path components plus symlinks followed.
constexpr int kMaxSteps = 64;

int open_how_in_root(int root_fd, const char* path, const open_how& how) {
  int fd;
  do {
    // EAGAIN: a concurrent rename raced with ".." resolution; try again.
    fd = sys::openat2(root_fd, path, how);
  } while (fd < 0 && (errno == EAGAIN || errno == EINTR));
  return fd;
}

int open_dir(int root_fd, const char* path) { return open_in_root(root_fd, path, O_PATH | O_DIRECTORY); }

void close_keeping_errno(int fd) {
  int saved = errno;
  close(fd);
  errno = saved;
}

// Splits "/a/b/c/" into parent "/a/b/" and name "c/" (a name ends at its
// first '/'). Returns false for "/" or a path too long for the buffers.
bool split_path(const char* path, PathText* parent, const char** name) {
  size_t end = strlen(path);
  while (end > 0 && path[end - 1] == '/') --end;
  size_t start = end;
  while (start > 0 && path[start - 1] != '/') --start;
  if (start == end || end >= PATH_MAX) {
    errno = start == end ? EINVAL : ENAMETOOLONG;
    return false;
  }
  *parent << (start == 0 ? "." : path);
  parent->truncate(start == 0 ? 1 : start);
  *name = path + start;
  return true;
}

int make_dirs(int root_fd, const char* path, int steps);

// Creates directory `name` in `parent_fd` (the directory `parent_path`). If a
// dangling symlink is in the way, creates the directory it points to instead.
int make_dir_entry(int root_fd, int parent_fd, const char* parent_path, const char* name, size_t name_len,
                   int steps) {
  char leaf[NAME_MAX + 1];
  if (name_len > NAME_MAX) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(leaf, name, name_len);
  leaf[name_len] = '\0';
  if (mkdirat(parent_fd, leaf, 0755) == 0) return 0;
  if (errno != EEXIST) return -1;

  char target[PATH_MAX];
  ssize_t len = readlinkat(parent_fd, leaf, target, sizeof target - 1);
  if (len < 0) return errno == EINVAL ? 0 : -1;  // EINVAL: exists, not a symlink
  target[len] = '\0';
  PathText resolved;
  if (target[0] != '/') resolved << parent_path << "/";
  resolved << target;
  if (resolved.truncated()) {
    errno = ENAMETOOLONG;
    return -1;
  }
  int fd = make_dirs(root_fd, resolved.c_str(), steps + 1);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}

int make_dirs(int root_fd, const char* path, int steps) {
  int fd = open_dir(root_fd, path);
  if (fd >= 0 || errno != ENOENT) return fd;
  if (steps > kMaxSteps) {
    errno = ELOOP;
    return -1;
  }
  PathText parent_path;
  const char* name;
  if (!split_path(path, &parent_path, &name)) return -1;
  size_t name_len = strcspn(name, "/");
  int parent_fd = make_dirs(root_fd, parent_path.c_str(), steps + 1);
  if (parent_fd < 0) return -1;
  int rc = make_dir_entry(root_fd, parent_fd, parent_path.c_str(), name, name_len, steps);
  close_keeping_errno(parent_fd);
  return rc < 0 ? -1 : open_dir(root_fd, path);
}

}  // namespace

int open_in_root(int root_fd, const char* path, int flags) {
  open_how how{};
  how.flags = static_cast<unsigned long long>(flags | O_CLOEXEC);
  how.resolve = kResolve;
  return open_how_in_root(root_fd, path, how);
}

int open_beneath(const char* root, const char* path) {
  int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) return -1;
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;  // a final symlink too is refused (ELOOP)
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  while (*path == '/') ++path;
  int fd = open_how_in_root(root_fd, *path == '\0' ? "." : path, how);
  close_keeping_errno(root_fd);
  return fd;
}

int make_dirs_in_root(int root_fd, const char* path) { return make_dirs(root_fd, path, 0); }

int make_file_in_root(int root_fd, const char* path) {
  int fd = open_in_root(root_fd, path, O_PATH);
  if (fd >= 0 || errno != ENOENT) return fd;
  const char* name;
  int parent_fd = make_parent_in_root(root_fd, path, &name);
  if (parent_fd < 0) return -1;
  close(parent_fd);

  // O_CREAT through openat2 so that a dangling symlink is followed inside the
  // root too; O_NONBLOCK in case a FIFO appeared in between.
  open_how how{};
  how.flags = O_CREAT | O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
  how.mode = 0644;
  how.resolve = kResolve;
  fd = open_how_in_root(root_fd, path, how);
  if (fd < 0) return -1;
  close(fd);
  return open_in_root(root_fd, path, O_PATH);
}

int make_parent_in_root(int root_fd, const char* path, const char** name) {
  PathText parent_path;
  if (!split_path(path, &parent_path, name)) return -1;
  if (strchr(*name, '/') != nullptr) {  // trailing slash: not a name for *at() calls
    errno = EINVAL;
    return -1;
  }
  return make_dirs(root_fd, parent_path.c_str(), 0);
}

}  // namespace tcbuild
