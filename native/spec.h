// The container to create, as plain C data. It is filled in before clone (see
// spec_reader.h) and only read afterwards, so the child never allocates.
#pragma once

#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

namespace tcbuild {

// A path opened below the host directory `root`, never through a symlink, a
// magic link or "..".
struct PathBeneath {
  const char* root;
  const char* path;
};

struct MountEntry {
  const char* type;
  const char* source;
  const char* destination;    // inside the container
  unsigned long flags;        // MS_* for the mount itself (and a bind mount's remount)
  unsigned long propagation;  // MS_PRIVATE, MS_SLAVE, ... (| MS_REC), applied afterwards; 0 if none
  const char* data;           // filesystem options, nullptr if none
  const char* cwd;            // directory to chdir to before mount(2) (relative overlay dirs), or nullptr
  // Sources opened by the init itself and mounted by fd (/proc/self/fd/N):
  // a bind's source, or an overlay's lower layers, top first (prepended to
  // `data` as lowerdir). None: `source` and `data` are used as they are.
  const PathBeneath* beneath;
  size_t beneath_count;
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
  const char* const* masked_paths;    // made unreadable: /dev/null or an empty read-only tmpfs over them
  size_t masked_path_count;
  const char* const* readonly_paths;  // bind-mounted read-only over themselves
  size_t readonly_path_count;
  const char* hostname;
  unsigned long namespaces;  // CLONE_NEW* flags
  // With CLONE_NEWNET: an existing network namespace to join instead of a new
  // one (create_network_namespace), or -1.
  int network_fd;
  // cgroup.procs files the parent writes the init's pid to before it may go on.
  const char* const* cgroup_procs;
  size_t cgroup_proc_count;

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
  uint64_t cap_bounding;  // masks of CAP_* bits
  uint64_t cap_effective;
  uint64_t cap_permitted;
  bool no_new_privileges;
  const sock_filter* seccomp_filter;  // nullptr: none
  size_t seccomp_filter_length;

  // stdin is a pipe from the parent, else /dev/null; not with a terminal.
  bool stdin_pipe;
  // A console (console.h) as stdin, stdout and stderr, of this size.
  bool terminal;
  unsigned short console_rows;
  unsigned short console_columns;
};

}  // namespace tcbuild
