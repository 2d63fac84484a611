#include "mount_options.h"

#include <sys/mount.h>


namespace tcbuild {
namespace {

struct FlagOption {
  const char* name;
  unsigned long flag;
  bool clears;
};

constexpr FlagOption kFlagOptions[] = {
    {"defaults", 0, false},         {"ro", MS_RDONLY, false},
    {"rw", MS_RDONLY, true},        {"suid", MS_NOSUID, true},
    {"nosuid", MS_NOSUID, false},   {"dev", MS_NODEV, true},
    {"nodev", MS_NODEV, false},     {"exec", MS_NOEXEC, true},
    {"noexec", MS_NOEXEC, false},   {"sync", MS_SYNCHRONOUS, false},
    {"async", MS_SYNCHRONOUS, true}, {"dirsync", MS_DIRSYNC, false},
    {"remount", MS_REMOUNT, false}, {"mand", MS_MANDLOCK, false},
    {"nomand", MS_MANDLOCK, true},  {"atime", MS_NOATIME, true},
    {"noatime", MS_NOATIME, false}, {"diratime", MS_NODIRATIME, true},
    {"nodiratime", MS_NODIRATIME, false}, {"bind", MS_BIND, false},
    {"rbind", MS_BIND | MS_REC, false}, {"relatime", MS_RELATIME, false},
    {"norelatime", MS_RELATIME, true}, {"strictatime", MS_STRICTATIME, false},
    {"nostrictatime", MS_STRICTATIME, true},
};

struct PropagationOption {
  const char* name;
  unsigned long flags;
};

constexpr PropagationOption kPropagationOptions[] = {
    {"private", MS_PRIVATE},        {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},          {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},            {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE},  {"runbindable", MS_UNBINDABLE | MS_REC},
};

bool apply_flag_option(const std::string& option, MountOptions* out) {
  for (const FlagOption& known : kFlagOptions) {
    if (option != known.name) continue;
    if (known.clears) {
      out->flags &= ~known.flag;
    } else {
      out->flags |= known.flag;
    }
    return true;
  }
  return false;
}

bool apply_propagation_option(const std::string& option, MountOptions* out) {
  for (const PropagationOption& known : kPropagationOptions) {
    if (option != known.name) continue;
    out->propagation = known.flags;
    return true;
  }
  return false;
}

}  // namespace

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (const std::string& option : options) {
    if (apply_flag_option(option, &out) || apply_propagation_option(option, &out)) continue;
    if (!out.data.empty()) out.data += ',';
    out.data += option;
  }
  return out;
}

}  // namespace tcbuild
