// The parent's side of the container's console (console.h): receiving its
// master from the init, and resizing it. For src/sandbox/console.ts:
//   receiveConsole(socket) -> Promise<{ read, write } | null>
//     takes the socket; two fds of the master (one for each direction, each
//     owned by the caller), or null if the init closed the socket without one
//   setConsoleSize(fd, rows, columns)
#pragma once

#include <napi.h>

namespace tcbuild {

void RegisterConsole(Napi::Env env, Napi::Object exports);

}  // namespace tcbuild
