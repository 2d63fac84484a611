// bzip2 and xz streaming decompression for ADD of local archives (src/solver/archive.ts), using
// the system's libbz2.so.1.0 and liblzma.so.5 loaded at run time: Debian's dpkg depends on
// liblzma, and libbz2 is in every Debian base, so the addon builds without their headers.
#pragma once
#include <napi.h>

// Adds `exports.DecompressStream`: new DecompressStream(format: 'bzip2' | 'xz'), with
//   run(input, end, callback(err, { output, consumed, finished })) on the libuv thread pool
//   close()
void RegisterArchiveDecompress(Napi::Env env, Napi::Object exports);
