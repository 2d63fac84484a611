// Zstandard streaming (de)compression for layers (src/snapshot/zstd.ts), using the system's
// libzstd.so.1 loaded at run time: Debian's dpkg depends on it, so it is on every Debian and
// Ubuntu system and the addon builds without its headers.
#pragma once
#include <napi.h>

// Adds `exports.ZstdStream`: new ZstdStream(compress, level, workers), with
//   run(input, end, callback(err, { output, consumed, finished })) on the libuv thread pool
//   close()
void RegisterZstd(Napi::Env env, Napi::Object exports);
