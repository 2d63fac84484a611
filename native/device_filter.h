// Loads a cgroup v2 device program (BPF_PROG_TYPE_CGROUP_DEVICE) and attaches
// it to a cgroup directory, as runc does. The instructions are generated in
// TypeScript (src/sandbox/cgroup/device-program.ts); the addon only loads them.
#pragma once
#include <napi.h>

// Adds `exports.attachDeviceProgram(cgroupDirFd, instructions: Buffer)`; throws an error
// with `code` (EPERM, EINVAL, ...) and, when the verifier refused the program, its log.
void RegisterDeviceFilter(Napi::Env env, Napi::Object exports);
