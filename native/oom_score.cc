#include "oom_score.h"

#include <fcntl.h>
#include <unistd.h>

namespace tcbuild {
namespace {

char saved[16];
ssize_t saved_length = -1;

void write_score(const char* text, size_t length) {
  int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t rc = write(fd, text, length);
  (void)rc;  // best effort: without privilege the score stays as it was
  close(fd);
}

}  // namespace

void shield_from_oom_killer() {
  int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  saved_length = read(fd, saved, sizeof saved);
  close(fd);
  write_score("-1000", 5);
}

void restore_oom_score() {
  if (saved_length > 0) write_score(saved, static_cast<size_t>(saved_length));
}

}  // namespace tcbuild
