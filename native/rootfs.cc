#include "rootfs.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fixed_text.h"
#include "path_in_root.h"
#include "protected_paths.h"
#include "report.h"
#include "syscalls.h"

namespace tcbuild {
namespace {

// A bind mount takes these only through a remount.
constexpr unsigned long kBindRemountFlags =
    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

struct DevSymlink {
  const char* name;
  const char* target;
};

constexpr DevSymlink kDevSymlinks[] = {
    {"fd", "/proc/self/fd"},          {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"},    {"ptmx", "pts/ptmx"},
};

// Where a mount goes: the root itself (a host path), or a path inside it. A
// target inside is resolved anew for every mount(2) call, since a mount hides
// the directory that an fd opened before it refers to.
struct MountTarget {
  int root_fd;       // -1: `path` is the host path of the root itself
  const char* path;  // otherwise a container path
};

int mount_on(const MountTarget& target, const char* source, const char* type, unsigned long flags,
             const char* data) {
  if (target.root_fd < 0) return mount(source, target.path, type, flags, data);
  int fd = open_in_root(target.root_fd, target.path, O_PATH);
  if (fd < 0) return -1;
  FixedText<32> fd_path;
  fd_path << "/proc/self/fd/" << fd;
  int rc = mount(source, fd_path.c_str(), type, flags, data);
  int saved = errno;
  close(fd);
  errno = saved;
  return rc;
}

int apply_mount(const MountEntry& m, const MountTarget& target) {
  // Overlay dirs relative to m.cwd keep a long lowerdir list within a page.
  if (m.cwd != nullptr && chdir(m.cwd) < 0) return -1;
  if (mount_on(target, m.source, m.type, m.flags, m.data) < 0) return -1;
  unsigned long remount = m.flags & kBindRemountFlags;
  if ((m.flags & MS_BIND) && remount != 0 &&
      mount_on(target, nullptr, nullptr, MS_REMOUNT | MS_BIND | remount, nullptr) < 0) {
    return -1;
  }
  if (m.propagation != 0 && mount_on(target, nullptr, nullptr, m.propagation, nullptr) < 0) return -1;
  return 0;
}

// A sysfs mount needs to own the network namespace; sharing the host's
// without that privilege, a read-only bind of the host's /sys is what runc does.
bool mount_host_sys_instead(const ContainerSpec& spec, const MountEntry& m, const MountTarget& target, int error) {
  if (strcmp(m.type, "sysfs") != 0 || error != EPERM || (spec.namespaces & CLONE_NEWNET) != 0) return false;
  const MountEntry host_sys{"none", "/sys", m.destination, MS_BIND | MS_REC | (m.flags & kBindRemountFlags), 0,
                            nullptr, nullptr, nullptr, 0};
  return apply_mount(host_sys, target) == 0;
}

bool binds_a_file(const MountEntry& m) {
  struct stat source;
  return (m.flags & MS_BIND) != 0 && stat(m.source, &source) == 0 && !S_ISDIR(source.st_mode);
}

void create_mount_target(int root_fd, const MountEntry& m, bool file) {
  int fd = file ? make_file_in_root(root_fd, m.destination) : make_dirs_in_root(root_fd, m.destination);
  if (fd < 0) fail(errno, "create mount point ", m.destination);
  close(fd);
}

// Overlay's lowerdir list has to fit in one page of mount data anyway.
constexpr size_t kMaxBeneath = 256;
using FdPath = FixedText<32>;

// Opens the mount's sources below their roots and mounts them by fd, so that
// nothing resolves their paths again: a symlink swapped in meanwhile is refused.
void mount_beneath(int root_fd, const MountEntry& m) {
  if (m.beneath_count > kMaxBeneath) fail(E2BIG, "mount ", m.type, " on ", m.destination, ": too many layers");
  int fds[kMaxBeneath];
  for (size_t i = 0; i < m.beneath_count; ++i) {
    fds[i] = open_beneath(m.beneath[i].root, m.beneath[i].path);
    if (fds[i] < 0) fail(errno, "open the source of ", m.destination, " (", m.beneath[i].path, ")");
  }
  MountEntry opened = m;
  FdPath source;
  FixedText<4096> data;
  bool file = false;
  if (strcmp(m.type, "overlay") == 0) {
    data << "lowerdir=";
    for (size_t i = 0; i < m.beneath_count; ++i) data << (i == 0 ? "" : ":") << "/proc/self/fd/" << fds[i];
    if (m.data != nullptr) data << "," << m.data;
    if (data.truncated()) fail(E2BIG, "mount overlay on ", m.destination, ": too many layers");
    opened.data = data.c_str();
  } else {
    struct stat st;
    if (fstat(fds[0], &st) < 0) fail(errno, "stat the source of ", m.destination);
    file = !S_ISDIR(st.st_mode);
    source << "/proc/self/fd/" << fds[0];
    opened.source = source.c_str();
  }
  create_mount_target(root_fd, m, file);
  if (apply_mount(opened, MountTarget{root_fd, m.destination}) < 0) fail(errno, "mount ", m.type, " on ", m.destination);
  for (size_t i = 0; i < m.beneath_count; ++i) close(fds[i]);
}

void mount_rootfs(const ContainerSpec& spec) {
  const MountTarget root{-1, spec.mountpoint};
  for (size_t i = 0; i < spec.rootfs_mount_count; ++i) {
    const MountEntry& m = spec.rootfs_mounts[i];
    if (apply_mount(m, root) < 0) fail(errno, "mount ", m.type, " on / (", spec.mountpoint, ")");
  }
}

void mount_inside(const ContainerSpec& spec, int root_fd) {
  for (size_t i = 0; i < spec.mount_count; ++i) {
    const MountEntry& m = spec.mounts[i];
    if (m.beneath_count > 0) {
      mount_beneath(root_fd, m);
      continue;
    }
    create_mount_target(root_fd, m, binds_a_file(m));
    const MountTarget target{root_fd, m.destination};
    if (apply_mount(m, target) == 0) continue;
    int error = errno;
    if (mount_host_sys_instead(spec, m, target, error)) continue;
    fail(error, "mount ", m.type, " on ", m.destination);
  }
}

void create_devices(const ContainerSpec& spec, int root_fd) {
  for (size_t i = 0; i < spec.device_count; ++i) {
    const DeviceEntry& device = spec.devices[i];
    const char* name;
    int dir = make_parent_in_root(root_fd, device.path, &name);
    if (dir < 0) fail(errno, "create the directory of ", device.path);
    if (mknodat(dir, name, device.mode, device.number) < 0 ||
        fchownat(dir, name, device.uid, device.gid, AT_SYMLINK_NOFOLLOW) < 0) {
      fail(errno, "create device ", device.path);
    }
    close(dir);
  }
}

void create_dev_symlinks(int root_fd) {
  int dev = make_dirs_in_root(root_fd, "/dev");
  if (dev < 0) fail(errno, "create /dev");
  for (const DevSymlink& link : kDevSymlinks) {
    if (symlinkat(link.target, dev, link.name) < 0 && errno != EEXIST) fail(errno, "symlink /dev/", link.name);
  }
  close(dev);
}

void pivot_into(int root_fd) {
  if (fchdir(root_fd) < 0) fail(errno, "chdir to the root filesystem");
  // Stacks the old root under the new one at "/"; the detach then drops it.
  if (sys::pivot_root(".", ".") < 0) fail(errno, "pivot_root");
  if (umount2(".", MNT_DETACH) < 0) fail(errno, "unmount the host's root");
  if (chdir("/") < 0) fail(errno, "chdir /");
}

}  // namespace

void enter_container_rootfs(const ContainerSpec& spec) {
  // Nothing mounted from here on may propagate to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0) fail(errno, "make all mounts private");
  mount_rootfs(spec);
  int root_fd = open(spec.mountpoint, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) fail(errno, "open ", spec.mountpoint);
  mount_inside(spec, root_fd);
  create_devices(spec, root_fd);
  create_dev_symlinks(root_fd);
  protect_paths(spec, root_fd);
  pivot_into(root_fd);
  close(root_fd);
}

}  // namespace tcbuild
