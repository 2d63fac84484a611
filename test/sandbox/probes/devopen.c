// Opens each argument MODE:PATH (MODE r, w or rw; non-blocking, no controlling
// terminal) and prints "PATH MODE ok", or the open's errno by name. The
// argument "pty" opens a new pseudo-terminal from /dev/ptmx, unlocks it and
// opens its slave: "pty /dev/pts/N ok".
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const int kFlags = O_NONBLOCK | O_NOCTTY | O_CLOEXEC;

static void open_pty(void) {
  int master = posix_openpt(O_RDWR | O_NOCTTY);
  const char* slave = master < 0 || unlockpt(master) < 0 ? NULL : ptsname(master);
  int fd = slave == NULL ? -1 : open(slave, O_RDWR | kFlags);
  printf("pty %s %s\n", slave ? slave : "-", fd < 0 ? strerrorname_np(errno) : "ok");
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "pty") == 0) {
      open_pty();
      continue;
    }
    char* path = strchr(argv[i], ':');
    if (path == NULL) return 2;
    *path++ = '\0';
    int mode = strcmp(argv[i], "r") == 0 ? O_RDONLY : strcmp(argv[i], "w") == 0 ? O_WRONLY : O_RDWR;
    int fd = open(path, mode | kFlags);
    printf("%s %s %s\n", path, argv[i], fd < 0 ? strerrorname_np(errno) : "ok");
    if (fd >= 0) close(fd);
  }
  return 0;
}
