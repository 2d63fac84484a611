// File-system primitives Node lacks (fd-relative *at calls, openat2, xattrs, mknod, flock), used by
// the snapshot differ and applier and the store's lock files. Policy lives in TypeScript
// (src/snapshot/native.ts).
#pragma once
#include <napi.h>

// Adds `exports.fsOps` = { openat2, mkdirat, mknodat, ..., constants }.
void RegisterFsOps(Napi::Env env, Napi::Object exports);
