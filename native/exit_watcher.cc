#include "exit_watcher.h"

#include <signal.h>
#include <sys/wait.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "syscalls.h"

namespace tcbuild {
namespace {

struct ExitWatch {
  ExitWatch(Napi::Env env, int pidfd, Napi::Function on_exit)
      : env(env), pidfd(pidfd), on_exit(Napi::Persistent(on_exit)), context(env, "tcbuild.containerExit") {}

  uv_poll_t poll{};
  napi_env env;
  int pidfd;
  Napi::FunctionReference on_exit;
  Napi::AsyncContext context;
};

uv_handle_t* as_handle(ExitWatch* watch) { return reinterpret_cast<uv_handle_t*>(&watch->poll); }

void free_watch(uv_handle_t* handle) { delete static_cast<ExitWatch*>(handle->data); }

// The environment (a worker thread, say) goes away before the process exits.
void on_env_teardown(void* arg) { uv_close(as_handle(static_cast<ExitWatch*>(arg)), free_watch); }

void on_readable(uv_poll_t* handle, int /*status*/, int /*events*/) {
  auto* watch = static_cast<ExitWatch*>(handle->data);
  siginfo_t info{};
  int rc = sys::wait_pidfd(watch->pidfd, &info, WEXITED | WNOHANG);
  if (rc == 0 && info.si_pid == 0) return;  // woken, but not exited yet
  if (rc < 0 && errno == EINTR) return;

  uv_poll_stop(handle);
  napi_remove_env_cleanup_hook(watch->env, on_env_teardown, watch);
  Napi::Env env(watch->env);
  Napi::HandleScope scope(env);
  Napi::Value exit_code = env.Null();
  Napi::Value signal = env.Null();
  if (rc == 0 && info.si_code == CLD_EXITED) exit_code = Napi::Number::New(env, info.si_status);
  if (rc == 0 && (info.si_code == CLD_KILLED || info.si_code == CLD_DUMPED)) {
    signal = Napi::Number::New(env, info.si_status);
  }
  try {
    watch->on_exit.MakeCallback(env.Global(), {exit_code, signal}, watch->context);
  } catch (const Napi::Error& error) {
    napi_fatal_exception(env, error.Value());
  }
  uv_close(as_handle(watch), free_watch);
}

}  // namespace

void watch_exit(Napi::Env env, int pidfd, Napi::Function on_exit) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "no event loop");
  auto* watch = new ExitWatch(env, pidfd, on_exit);
  watch->poll.data = watch;
  int rc = uv_poll_init(loop, &watch->poll, pidfd);
  if (rc != 0) {
    delete watch;
  } else if ((rc = uv_poll_start(&watch->poll, UV_READABLE, on_readable)) != 0) {
    uv_close(as_handle(watch), free_watch);
  }
  if (rc != 0) throw Napi::Error::New(env, std::string("watch the container's init: ") + uv_strerror(rc));
  napi_add_env_cleanup_hook(env, on_env_teardown, watch);
}

}  // namespace tcbuild
