#include "spec_reader.h"

#include <sched.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cmath>
#include <cstring>

#include "capabilities.h"
#include "mount_options.h"

namespace tcbuild {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

[[noreturn]] void throw_type_error(const Napi::Env& env, const std::string& where, const char* expected) {
  throw Napi::TypeError::New(env, "container spec: " + where + " must be " + expected);
}

Napi::Value field(const Napi::Object& obj, const char* key) { return obj.Get(key); }

std::string read_string(const Napi::Object& obj, const char* key, const std::string& where) {
  Napi::Value value = field(obj, key);
  if (!value.IsString()) throw_type_error(obj.Env(), where, "a string");
  std::string text = value.As<Napi::String>().Utf8Value();
  if (text.find('\0') != std::string::npos) throw_type_error(obj.Env(), where, "a string without NUL bytes");
  return text;
}

constexpr double kMaxId = 4294967294.0;  // (uid_t)-1 means "unchanged" to the kernel

double integer_value(const Napi::Value& value, const std::string& where, double max) {
  double number = value.IsNumber() ? value.As<Napi::Number>().DoubleValue() : -1;
  if (number < 0 || number > max || std::trunc(number) != number) {
    throw_type_error(value.Env(), where, "a non-negative integer in range");
  }
  return number;
}

double read_integer(const Napi::Object& obj, const char* key, const std::string& where, double max) {
  return integer_value(field(obj, key), where, max);
}

uint32_t read_id(const Napi::Object& obj, const char* key, const std::string& where) {
  return static_cast<uint32_t>(read_integer(obj, key, where, kMaxId));
}

Napi::Object read_object(const Napi::Object& obj, const char* key, const std::string& where) {
  Napi::Value value = field(obj, key);
  if (!value.IsObject() || value.IsArray()) throw_type_error(obj.Env(), where, "an object");
  return value.As<Napi::Object>();
}

Napi::Array read_array(const Napi::Object& obj, const char* key, const std::string& where) {
  Napi::Value value = field(obj, key);
  if (!value.IsArray()) throw_type_error(obj.Env(), where, "an array");
  return value.As<Napi::Array>();
}

Napi::Object element_object(const Napi::Array& list, uint32_t i, const std::string& where) {
  Napi::Value value = list.Get(i);
  if (!value.IsObject()) throw_type_error(list.Env(), where, "an object");
  return value.As<Napi::Object>();
}

std::string index_label(const std::string& where, uint32_t i) { return where + "[" + std::to_string(i) + "]"; }

struct NamedValue {
  const char* name;
  int value;
};

constexpr NamedValue kNamespaces[] = {
    {"mount", CLONE_NEWNS}, {"pid", CLONE_NEWPID},       {"uts", CLONE_NEWUTS},
    {"ipc", CLONE_NEWIPC},  {"cgroup", CLONE_NEWCGROUP}, {"network", CLONE_NEWNET},
};

constexpr NamedValue kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

template <size_t N>
const NamedValue* find_named(const NamedValue (&table)[N], const std::string& name) {
  for (const NamedValue& entry : table) {
    if (name == entry.name) return &entry;
  }
  return nullptr;
}

mode_t device_file_type(const Napi::Env& env, const std::string& type, const std::string& where) {
  if (type == "c" || type == "u") return S_IFCHR;
  if (type == "b") return S_IFBLK;
  if (type == "p") return S_IFIFO;
  throw_type_error(env, where, "one of \"c\", \"u\", \"b\", \"p\"");
}

}  // namespace

OwnedSpec::OwnedSpec(const Napi::Object& js) {
  spec_.network_fd = -1;
  spec_.mountpoint = keep(read_string(read_object(js, "root", "root"), "path", "root.path"));
  rootfs_mounts_ = read_mounts(read_array(js, "rootfsMounts", "rootfsMounts"), "rootfsMounts");
  for (const MountEntry& mount : rootfs_mounts_) {
    if (std::string(mount.destination) != "/") throw_type_error(js.Env(), "rootfsMounts[].destination", "\"/\"");
  }
  if (rootfs_mounts_.empty()) throw_type_error(js.Env(), "rootfsMounts", "a non-empty array");
  mounts_ = read_mounts(read_array(js, "mounts", "mounts"), "mounts");
  spec_.hostname = keep(read_string(js, "hostname", "hostname"));
  read_process(read_object(js, "process", "process"));
  read_linux(read_object(js, "linux", "linux"));

  spec_.rootfs_mounts = rootfs_mounts_.data();
  spec_.rootfs_mount_count = rootfs_mounts_.size();
  spec_.mounts = mounts_.data();
  spec_.mount_count = mounts_.size();
  spec_.devices = devices_.data();
  spec_.device_count = devices_.size();
  spec_.argv = argv_.data();
  spec_.envp = envp_.data();
  spec_.groups = groups_.data();
  spec_.group_count = groups_.size();
  spec_.rlimits = rlimits_.data();
  spec_.rlimit_count = rlimits_.size();
  spec_.masked_paths = masked_paths_.data();
  spec_.masked_path_count = masked_paths_.size() - 1;
  spec_.readonly_paths = readonly_paths_.data();
  spec_.readonly_path_count = readonly_paths_.size() - 1;
  spec_.cgroup_procs = cgroup_procs_.data();
  spec_.cgroup_proc_count = cgroup_procs_.size() - 1;
  spec_.seccomp_filter = seccomp_filter_.empty() ? nullptr : seccomp_filter_.data();
  spec_.seccomp_filter_length = seccomp_filter_.size();
}

const char* OwnedSpec::keep(std::string text) { return strings_.emplace_back(std::move(text)).c_str(); }

std::vector<MountEntry> OwnedSpec::read_mounts(const Napi::Array& list, const std::string& where) {
  std::vector<MountEntry> mounts;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    std::string label = index_label(where, i);
    Napi::Object js = element_object(list, i, label);
    Napi::Array js_options = read_array(js, "options", label + ".options");
    std::vector<std::string> options;
    for (uint32_t j = 0; j < js_options.Length(); ++j) {
      Napi::Value option = js_options.Get(j);
      if (!option.IsString()) throw_type_error(list.Env(), index_label(label + ".options", j), "a string");
      options.push_back(option.As<Napi::String>().Utf8Value());
    }
    MountOptions parsed = parse_mount_options(options);
    std::string destination = read_string(js, "destination", label + ".destination");
    const char* cwd = field(js, "cwd").IsUndefined() ? nullptr : keep(read_string(js, "cwd", label + ".cwd"));
    if (destination.empty() || destination[0] != '/') throw_type_error(list.Env(), label + ".destination", "absolute");
    std::vector<PathBeneath>& beneath = beneath_.emplace_back();
    if (!field(js, "beneath").IsUndefined()) {
      Napi::Array js_beneath = read_array(js, "beneath", label + ".beneath");
      for (uint32_t j = 0; j < js_beneath.Length(); ++j) {
        std::string where = index_label(label + ".beneath", j);
        Napi::Object entry = element_object(js_beneath, j, where);
        beneath.push_back(PathBeneath{keep(read_string(entry, "root", where + ".root")),
                                      keep(read_string(entry, "path", where + ".path"))});
      }
    }
    mounts.push_back(MountEntry{
        keep(read_string(js, "type", label + ".type")),
        keep(read_string(js, "source", label + ".source")),
        keep(std::move(destination)),
        parsed.flags,
        parsed.propagation,
        parsed.data.empty() ? nullptr : keep(std::move(parsed.data)),
        cwd,
        beneath.empty() ? nullptr : beneath.data(),
        beneath.size(),
    });
  }
  return mounts;
}

std::vector<char*> OwnedSpec::read_string_list(const Napi::Array& list, const std::string& where) {
  std::vector<char*> pointers;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    Napi::Value value = list.Get(i);
    if (!value.IsString()) throw_type_error(list.Env(), index_label(where, i), "a string");
    std::string text = value.As<Napi::String>().Utf8Value();
    if (text.find('\0') != std::string::npos) throw_type_error(list.Env(), index_label(where, i), "without NUL bytes");
    pointers.push_back(const_cast<char*>(keep(std::move(text))));
  }
  pointers.push_back(nullptr);
  return pointers;
}

void OwnedSpec::read_process(const Napi::Object& process) {
  argv_ = read_string_list(read_array(process, "args", "process.args"), "process.args");
  if (argv_.size() < 2) throw_type_error(process.Env(), "process.args", "a non-empty array");
  envp_ = read_string_list(read_array(process, "env", "process.env"), "process.env");
  spec_.path = kDefaultPath;
  for (char* entry : envp_) {
    if (entry != nullptr && std::string(entry).rfind("PATH=", 0) == 0) {
      spec_.path = entry + 5;
      break;
    }
  }
  std::string cwd = read_string(process, "cwd", "process.cwd");
  if (cwd.empty() || cwd[0] != '/') throw_type_error(process.Env(), "process.cwd", "an absolute path");
  spec_.cwd = keep(std::move(cwd));

  Napi::Object user = read_object(process, "user", "process.user");
  spec_.uid = read_id(user, "uid", "process.user.uid");
  spec_.gid = read_id(user, "gid", "process.user.gid");
  spec_.umask = static_cast<mode_t>(read_integer(user, "umask", "process.user.umask", 0777));
  Napi::Array gids = read_array(user, "additionalGids", "process.user.additionalGids");
  for (uint32_t i = 0; i < gids.Length(); ++i) {
    groups_.push_back(static_cast<gid_t>(integer_value(gids.Get(i), index_label("process.user.additionalGids", i), kMaxId)));
  }

  Napi::Object capabilities = read_object(process, "capabilities", "process.capabilities");
  spec_.cap_bounding = read_capabilities(capabilities, "bounding");
  spec_.cap_effective = read_capabilities(capabilities, "effective");
  spec_.cap_permitted = read_capabilities(capabilities, "permitted");
  Napi::Value no_new_privileges = field(process, "noNewPrivileges");
  if (!no_new_privileges.IsBoolean()) throw_type_error(process.Env(), "process.noNewPrivileges", "a boolean");
  spec_.no_new_privileges = no_new_privileges.As<Napi::Boolean>().Value();
  read_stdio(process);

  Napi::Array limits = read_array(process, "rlimits", "process.rlimits");
  for (uint32_t i = 0; i < limits.Length(); ++i) {
    std::string label = index_label("process.rlimits", i);
    Napi::Object limit = element_object(limits, i, label);
    const NamedValue* resource = find_named(kRlimits, read_string(limit, "type", label + ".type"));
    if (resource == nullptr) throw_type_error(process.Env(), label + ".type", "a known RLIMIT_* name");
    rlimits_.push_back(RlimitEntry{
        resource->name,
        resource->value,
        static_cast<rlim_t>(read_integer(limit, "soft", label + ".soft", 9007199254740991.0)),
        static_cast<rlim_t>(read_integer(limit, "hard", label + ".hard", 9007199254740991.0)),
    });
  }
}

void OwnedSpec::read_stdio(const Napi::Object& process) {
  Napi::Value stdin_pipe = field(process, "stdinPipe");
  Napi::Value terminal = field(process, "terminal");
  if (!stdin_pipe.IsBoolean()) throw_type_error(process.Env(), "process.stdinPipe", "a boolean");
  if (!terminal.IsBoolean()) throw_type_error(process.Env(), "process.terminal", "a boolean");
  spec_.stdin_pipe = stdin_pipe.As<Napi::Boolean>().Value();
  spec_.terminal = terminal.As<Napi::Boolean>().Value();
  if (spec_.stdin_pipe && spec_.terminal) throw_type_error(process.Env(), "process.stdinPipe", "false with a terminal");
  if (!spec_.terminal) return;
  Napi::Object size = read_object(process, "consoleSize", "process.consoleSize");
  spec_.console_rows = static_cast<unsigned short>(read_integer(size, "height", "process.consoleSize.height", 0xffff));
  spec_.console_columns = static_cast<unsigned short>(read_integer(size, "width", "process.consoleSize.width", 0xffff));
}

void OwnedSpec::read_linux(const Napi::Object& js_linux) {
  Napi::Array namespaces = read_array(js_linux, "namespaces", "linux.namespaces");
  for (uint32_t i = 0; i < namespaces.Length(); ++i) {
    std::string label = index_label("linux.namespaces", i) + ".type";
    std::string type = read_string(element_object(namespaces, i, label), "type", label);
    const NamedValue* ns = find_named(kNamespaces, type);
    if (ns == nullptr) throw_type_error(js_linux.Env(), label, "one of mount, pid, uts, ipc, cgroup, network");
    spec_.namespaces |= static_cast<unsigned long>(ns->value);
    Napi::Object entry = element_object(namespaces, i, label);
    if (ns->value == CLONE_NEWNET && entry.Has("fd")) {
      spec_.network_fd = static_cast<int>(read_integer(entry, "fd", index_label("linux.namespaces", i) + ".fd", INT32_MAX));
    }
  }
  // The design depends on both: mounts vanish with the mount namespace, and
  // killing init (PID 1) kills everything in the PID namespace.
  if ((spec_.namespaces & (CLONE_NEWNS | CLONE_NEWPID)) != (CLONE_NEWNS | CLONE_NEWPID)) {
    throw_type_error(js_linux.Env(), "linux.namespaces", "a list including mount and pid");
  }

  masked_paths_ = read_string_list(read_array(js_linux, "maskedPaths", "linux.maskedPaths"), "linux.maskedPaths");
  readonly_paths_ = read_string_list(read_array(js_linux, "readonlyPaths", "linux.readonlyPaths"), "linux.readonlyPaths");
  cgroup_procs_ = read_string_list(read_array(js_linux, "cgroupProcs", "linux.cgroupProcs"), "linux.cgroupProcs");
  read_seccomp(js_linux);

  Napi::Array devices = read_array(js_linux, "devices", "linux.devices");
  for (uint32_t i = 0; i < devices.Length(); ++i) {
    std::string label = index_label("linux.devices", i);
    Napi::Object device = element_object(devices, i, label);
    std::string path = read_string(device, "path", label + ".path");
    if (path.empty() || path[0] != '/') throw_type_error(js_linux.Env(), label + ".path", "an absolute path");
    mode_t type = device_file_type(js_linux.Env(), read_string(device, "type", label + ".type"), label + ".type");
    devices_.push_back(DeviceEntry{
        keep(std::move(path)),
        type | static_cast<mode_t>(read_integer(device, "fileMode", label + ".fileMode", 07777)),
        makedev(read_id(device, "major", label + ".major"), read_id(device, "minor", label + ".minor")),
        read_id(device, "uid", label + ".uid"),
        read_id(device, "gid", label + ".gid"),
    });
  }
}

uint64_t OwnedSpec::read_capabilities(const Napi::Object& sets, const char* key) {
  std::string where = std::string("process.capabilities.") + key;
  Napi::Array names = read_array(sets, key, where);
  uint64_t mask = 0;
  for (uint32_t i = 0; i < names.Length(); ++i) {
    Napi::Value name = names.Get(i);
    int number = name.IsString() ? capability_number(name.As<Napi::String>().Utf8Value()) : -1;
    if (number < 0) throw_type_error(sets.Env(), index_label(where, i), "a known CAP_* name");
    mask |= uint64_t{1} << number;
  }
  return mask;
}

// The compiled classic-BPF program as raw bytes (8 per instruction), or null.
void OwnedSpec::read_seccomp(const Napi::Object& js_linux) {
  Napi::Value value = field(js_linux, "seccompFilter");
  if (value.IsNull() || value.IsUndefined()) return;
  if (!value.IsBuffer()) throw_type_error(js_linux.Env(), "linux.seccompFilter", "a Buffer or null");
  Napi::Buffer<uint8_t> bytes = value.As<Napi::Buffer<uint8_t>>();
  size_t count = bytes.Length() / sizeof(sock_filter);
  if (bytes.Length() % sizeof(sock_filter) != 0 || count == 0 || count > BPF_MAXINSNS) {
    throw_type_error(js_linux.Env(), "linux.seccompFilter", "1 to 4096 BPF instructions of 8 bytes");
  }
  seccomp_filter_.resize(count);
  memcpy(seccomp_filter_.data(), bytes.Data(), bytes.Length());
}

}  // namespace tcbuild
