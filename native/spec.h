// The container to create, as plain C data. It is filled in before clone (see
// spec_reader.h) and only read afterwards, so the child never allocates.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstddef>

namespace tcbuild {

struct MountEntry {
  const char* type;
  const char* source;
  const char* destination;    // inside the container
  unsigned long flags;        // MS_* for the mount itself (and a bind mount's remount)
  unsigned long propagation;  // MS_PRIVATE, MS_SLAVE, ... (| MS_REC), applied afterwards; 0 if none
  const char* data;           // filesystem options, nullptr if none
};

struct DeviceEntry {
  const char* path;  // inside the container
  mode_t mode;       // file type (S_IFCHR/S_IFBLK) and permissions
  dev_t number;
  uid_t uid;
  gid_t gid;
};

struct RlimitEntry {
  const char* name;  // "RLIMIT_NOFILE", for error messages
  int resource;
  rlim_t soft;
  rlim_t hard;
};

struct ContainerSpec {
  const char* mountpoint;  // host directory the root filesystem is mounted on
  const MountEntry* rootfs_mounts;
  size_t rootfs_mount_count;
  const MountEntry* mounts;
  size_t mount_count;
  const DeviceEntry* devices;
  size_t device_count;
  const char* hostname;
  unsigned long namespaces;  // CLONE_NEW* flags

  char* const* argv;  // NULL-terminated
  char* const* envp;  // NULL-terminated
  const char* path;   // PATH used to find argv[0]
  const char* cwd;
  uid_t uid;
  gid_t gid;
  const gid_t* groups;
  size_t group_count;
  mode_t umask;
  const RlimitEntry* rlimits;
  size_t rlimit_count;
};

}  // namespace tcbuild
