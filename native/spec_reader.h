// Reads the spec object built by src/sandbox/spec.ts into storage owned here,
// and exposes it as a ContainerSpec of plain pointers. Everything is copied
// before clone; the child only reads it.
#pragma once

#include <napi.h>

#include <deque>
#include <string>
#include <vector>

#include "spec.h"

namespace tcbuild {

class OwnedSpec {
 public:
  // Throws Napi::TypeError naming the offending field of a malformed spec.
  explicit OwnedSpec(const Napi::Object& js);
  OwnedSpec(const OwnedSpec&) = delete;
  OwnedSpec& operator=(const OwnedSpec&) = delete;

  const ContainerSpec& view() const { return spec_; }

 private:
  const char* keep(std::string text);
  std::vector<MountEntry> read_mounts(const Napi::Array& list, const std::string& where);
  void read_process(const Napi::Object& process);
  void read_stdio(const Napi::Object& process);
  void read_linux(const Napi::Object& js_linux);
  std::vector<char*> read_string_list(const Napi::Array& list, const std::string& where);
  uint64_t read_capabilities(const Napi::Object& sets, const char* key);
  void read_seccomp(const Napi::Object& js_linux);

  std::deque<std::string> strings_;  // a deque never moves its elements
  std::vector<MountEntry> rootfs_mounts_;
  std::vector<MountEntry> mounts_;
  std::deque<std::vector<PathBeneath>> beneath_;  // each mount's list; neither moves once read
  std::vector<DeviceEntry> devices_;
  std::vector<char*> argv_;
  std::vector<char*> envp_;
  std::vector<gid_t> groups_;
  std::vector<RlimitEntry> rlimits_;
  std::vector<char*> masked_paths_;
  std::vector<char*> readonly_paths_;
  std::vector<char*> cgroup_procs_;
  std::vector<sock_filter> seccomp_filter_;
  ContainerSpec spec_{};
};

}  // namespace tcbuild
