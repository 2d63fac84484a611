// The addon's JavaScript surface. For src/sandbox/native.ts:
//   spawn(spec) -> { pid, pidfd, stdout, stderr, report, stdin, console }
//     (fds owned by the caller; stdin and console are null unless the spec asks for them)
//   waitForExit(pidfd, (exitCode, signal) => void)
//   sendSignal(pidfd, signal) -> boolean                     (false: already exited)
//   createNetworkNamespace() -> fd                          (a new network namespace, lo up)
//   capabilityNames: string[]                               (every CAP_* name a spec may hold)
// the console's functions (console_receiver.h), attachDeviceProgram (device_filter.h), and fsOps for
// src/snapshot/native.ts (see fs_ops.h).
#include <napi.h>
#include <string.h>

#include <cerrno>
#include <string>

#include "archive_decompress.h"
#include "capabilities.h"
#include "console_receiver.h"
#include "device_filter.h"
#include "exit_watcher.h"
#include "fs_ops.h"
#include "network_namespace.h"
#include "spawn.h"
#include "spec_reader.h"
#include "syscalls.h"
#include "zstd_stream.h"

namespace tcbuild {
namespace {

Napi::Error errno_error(Napi::Env env, const std::string& what, int error) {
  Napi::Error result = Napi::Error::New(env, what + ": " + strerror(error));
  if (const char* name = strerrorname_np(error)) result.Set("code", name);
  result.Set("errno", Napi::Number::New(env, error));
  return result;
}

int fd_argument(const Napi::CallbackInfo& info, size_t index) {
  if (!info[index].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a file descriptor");
  return info[index].As<Napi::Number>().Int32Value();
}

Napi::Value optional_fd(Napi::Env env, int fd) { return fd < 0 ? env.Null() : Napi::Number::New(env, fd); }

Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsObject()) throw Napi::TypeError::New(env, "spawn(spec): spec must be an object");
  OwnedSpec spec(info[0].As<Napi::Object>());
  SpawnedContainer container{};
  std::string failed_step;
  if (int error = spawn_container(spec.view(), &container, &failed_step)) throw errno_error(env, failed_step, error);
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", container.pid);
  result.Set("pidfd", container.pidfd);
  result.Set("stdout", container.stdout_fd);
  result.Set("stderr", container.stderr_fd);
  result.Set("report", container.report_fd);
  result.Set("stdin", optional_fd(env, container.stdin_fd));
  result.Set("console", optional_fd(env, container.console_socket));
  return result;
}

Napi::Value WaitForExit(const Napi::CallbackInfo& info) {
  if (!info[1].IsFunction()) throw Napi::TypeError::New(info.Env(), "waitForExit: expected a callback");
  watch_exit(info.Env(), fd_argument(info, 0), info[1].As<Napi::Function>());
  return info.Env().Undefined();
}

Napi::Value SendSignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int pidfd = fd_argument(info, 0);
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "sendSignal: expected a signal number");
  if (sys::pidfd_send_signal(pidfd, info[1].As<Napi::Number>().Int32Value()) == 0) return Napi::Boolean::New(env, true);
  if (errno == ESRCH) return Napi::Boolean::New(env, false);
  throw errno_error(env, "signal the container's init", errno);
}

Napi::Value CreateNetworkNamespace(const Napi::CallbackInfo& info) {
  int fd = create_network_namespace();
  if (fd < 0) throw errno_error(info.Env(), "create a network namespace", errno);
  return Napi::Number::New(info.Env(), fd);
}

Napi::Array CapabilityNames(Napi::Env env) {
  Napi::Array names = Napi::Array::New(env);
  for (int i = 0; capability_name(i) != nullptr; ++i) names.Set(static_cast<uint32_t>(i), capability_name(i));
  return names;
}

}  // namespace
}  // namespace tcbuild

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, tcbuild::Spawn, "spawn"));
  exports.Set("waitForExit", Napi::Function::New(env, tcbuild::WaitForExit, "waitForExit"));
  exports.Set("sendSignal", Napi::Function::New(env, tcbuild::SendSignal, "sendSignal"));
  exports.Set("capabilityNames", tcbuild::CapabilityNames(env));
  exports.Set("createNetworkNamespace", Napi::Function::New(env, tcbuild::CreateNetworkNamespace, "createNetworkNamespace"));
  tcbuild::RegisterConsole(env, exports);
  RegisterFsOps(env, exports);
  RegisterZstd(env, exports);
  RegisterArchiveDecompress(env, exports);
  RegisterDeviceFilter(env, exports);
  return exports;
}

NODE_API_MODULE(tcbuild_native, Init)
