// The report pipe: how the container's init and workload tell the parent
// about a failed setup step and, at the end, how the workload exited. The
// parent decodes records in src/sandbox/report.ts; keep the layouts in sync.
#pragma once

#include <cstdint>

#include "fixed_text.h"

namespace tcbuild {

// The report pipe's write end in the container's init and workload. It is
// close-on-exec: a successful exec of the workload closes its copy.
constexpr int kReportFd = 3;

// Exit code of init or workload when a setup step failed (the report says which).
constexpr int kSetupFailedExitCode = 125;

enum class ReportKind : uint32_t { kSetupFailed = 1, kWorkloadExited = 2 };

// Fixed-size and smaller than PIPE_BUF, so each record is written atomically.
struct ReportRecord {
  ReportKind kind;
  int32_t error;        // errno of a failed step
  int32_t exit_code;    // of the workload, or -1 if it was killed by a signal
  int32_t term_signal;  // that killed the workload, or 0
  char step[240];       // what failed, e.g. "mount proc on /proc"
};
static_assert(sizeof(ReportRecord) == 256, "src/sandbox/report.ts expects 256-byte records");

using StepText = FixedText<sizeof(ReportRecord::step)>;

void report_workload_exit(int wait_status);

// Reports that `step` failed with `error` and exits with kSetupFailedExitCode.
[[noreturn]] void fail(int error, const StepText& step);

template <typename... Parts>
[[noreturn]] void fail(int error, const Parts&... parts) {
  StepText step;
  (step << ... << parts);
  fail(error, step);
}

}  // namespace tcbuild
