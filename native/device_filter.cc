#include "device_filter.h"

#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

namespace {

// The program calls no helpers, so the kernel asks nothing of its license.
constexpr char kLicense[] = "Apache";
constexpr size_t kVerifierLogSize = 16 * 1024;

int bpf(int command, bpf_attr* attr) { return static_cast<int>(syscall(SYS_bpf, command, attr, sizeof *attr)); }

uint64_t pointer(const void* p) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(p)); }

Napi::Error errno_error(Napi::Env env, const char* what, int error, const std::string& detail) {
  std::string message = std::string(what) + ": " + strerror(error);
  if (!detail.empty()) message += " (" + detail + ")";
  Napi::Error result = Napi::Error::New(env, message);
  if (const char* name = strerrorname_np(error)) result.Set("code", name);
  result.Set("errno", Napi::Number::New(env, error));
  return result;
}

// Loads the program: its fd, or -1 with errno set (and, given `log`, the verifier's complaint in it).
int load_program(const uint8_t* instructions, size_t length, std::vector<char>* log) {
  bpf_attr attr{};
  attr.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  attr.insns = pointer(instructions);
  attr.insn_cnt = static_cast<uint32_t>(length / sizeof(bpf_insn));
  attr.license = pointer(kLicense);
  if (log != nullptr) {
    log->assign(kVerifierLogSize, '\0');
    attr.log_buf = pointer(log->data());
    attr.log_size = static_cast<uint32_t>(log->size());
    attr.log_level = 1;
  }
  return bpf(BPF_PROG_LOAD, &attr);
}

// What the verifier says about a program it refused, loading it again with a log.
std::string verifier_log(const uint8_t* instructions, size_t length) {
  std::vector<char> log;
  int fd = load_program(instructions, length, &log);
  if (fd >= 0) close(fd);
  std::string text(log.data(), strnlen(log.data(), log.size()));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

Napi::Value AttachDeviceProgram(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber() || !info[1].IsBuffer()) {
    throw Napi::TypeError::New(env, "attachDeviceProgram(cgroupDirFd, instructions): expected a number and a Buffer");
  }
  int cgroup_fd = info[0].As<Napi::Number>().Int32Value();
  Napi::Buffer<uint8_t> instructions = info[1].As<Napi::Buffer<uint8_t>>();
  if (instructions.Length() == 0 || instructions.Length() % sizeof(bpf_insn) != 0) {
    throw Napi::TypeError::New(env, "attachDeviceProgram: instructions must be a whole number of 8-byte eBPF instructions");
  }
  int program = load_program(instructions.Data(), instructions.Length(), nullptr);
  if (program < 0) {
    int error = errno;
    std::string log = error == EINVAL || error == EACCES ? verifier_log(instructions.Data(), instructions.Length()) : "";
    throw errno_error(env, "load the cgroup device program", error, log);
  }
  bpf_attr attr{};
  attr.target_fd = static_cast<uint32_t>(cgroup_fd);
  attr.attach_bpf_fd = static_cast<uint32_t>(program);
  attr.attach_type = BPF_CGROUP_DEVICE;
  // As runc: programs of nested cgroups then run too, and every one must allow an access.
  attr.attach_flags = BPF_F_ALLOW_MULTI;
  int rc = bpf(BPF_PROG_ATTACH, &attr);
  int saved = errno;
  // The attachment holds the program; it goes with the cgroup's removal.
  close(program);
  if (rc < 0) throw errno_error(env, "attach the cgroup device program", saved, "");
  return env.Undefined();
}

}  // namespace

void RegisterDeviceFilter(Napi::Env env, Napi::Object exports) {
  exports.Set("attachDeviceProgram", Napi::Function::New(env, AttachDeviceProgram, "attachDeviceProgram"));
}
