#include "protected_paths.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>

#include "fixed_text.h"
#include "path_in_root.h"
#include "report.h"

namespace tcbuild {
namespace {

using FdPath = FixedText<32>;

FdPath fd_path(int fd) {
  FdPath path;
  path << "/proc/self/fd/" << fd;
  return path;
}

// The mount flags a read-only remount must keep (the kernel refuses to clear
// locked ones, and clearing nosuid/noexec/nodev would loosen the mount).
unsigned long kept_flags(int fd) {
  struct statvfs info {};
  if (fstatvfs(fd, &info) < 0) return 0;
  unsigned long flags = 0;
  if (info.f_flag & ST_NOSUID) flags |= MS_NOSUID;
  if (info.f_flag & ST_NODEV) flags |= MS_NODEV;
  if (info.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
  return flags;
}

void mask(int root_fd, const char* path) {
  int fd = open_in_root(root_fd, path, O_PATH | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail(errno, "open masked path ", path);
  }
  struct stat info {};
  if (fstat(fd, &info) < 0) fail(errno, "stat masked path ", path);
  int rc = S_ISDIR(info.st_mode) ? mount("tmpfs", fd_path(fd).c_str(), "tmpfs", MS_RDONLY, "size=0,mode=0555")
                                 : mount("/dev/null", fd_path(fd).c_str(), nullptr, MS_BIND, nullptr);
  if (rc < 0) fail(errno, "mask ", path);
  close(fd);
}

void make_readonly(int root_fd, const char* path) {
  int fd = open_in_root(root_fd, path, O_PATH | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return;
    fail(errno, "open read-only path ", path);
  }
  if (mount(fd_path(fd).c_str(), fd_path(fd).c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    fail(errno, "bind read-only path ", path);
  }
  close(fd);
  // The fd above still refers to the mount underneath; the remount needs the new one.
  fd = open_in_root(root_fd, path, O_PATH | O_NOFOLLOW);
  if (fd < 0 || mount(nullptr, fd_path(fd).c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | kept_flags(fd),
                      nullptr) < 0) {
    fail(errno, "make ", path, " read-only");
  }
  close(fd);
}

}  // namespace

void protect_paths(const ContainerSpec& spec, int root_fd) {
  for (size_t i = 0; i < spec.masked_path_count; ++i) mask(root_fd, spec.masked_paths[i]);
  for (size_t i = 0; i < spec.readonly_path_count; ++i) make_readonly(root_fd, spec.readonly_paths[i]);
}

}  // namespace tcbuild
