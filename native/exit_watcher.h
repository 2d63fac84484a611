// Waiting for the container's init without blocking the event loop or holding
// a threadpool thread: libuv polls the pidfd, which turns readable when the
// process exits, and waitid(P_PIDFD) then reaps exactly that process. libuv
// reaps the children of Node's child_process by their pids only, so neither
// side can take the other's.
#pragma once

#include <napi.h>

namespace tcbuild {

// Calls on_exit(exitCode: number | null, signal: number | null) once the
// process exits; both are null if it could not be reaped. The pidfd stays
// open; its owner closes it after the call.
void watch_exit(Napi::Env env, int pidfd, Napi::Function on_exit);

}  // namespace tcbuild
