#include "report.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tcbuild {
namespace {

void write_record(const ReportRecord& record) {
  while (write(kReportFd, &record, sizeof record) < 0 && errno == EINTR) {
  }
}

}  // namespace

void report_workload_exit(int wait_status) {
  ReportRecord record{};
  record.kind = ReportKind::kWorkloadExited;
  record.exit_code = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  record.term_signal = WIFSIGNALED(wait_status) ? WTERMSIG(wait_status) : 0;
  write_record(record);
}

void fail(int error, const StepText& step) {
  ReportRecord record{};
  record.kind = ReportKind::kSetupFailed;
  record.error = error;
  memcpy(record.step, step.c_str(), step.size());
  write_record(record);
  _exit(kSetupFailedExitCode);
}

}  // namespace tcbuild
