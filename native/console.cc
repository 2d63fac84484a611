#include "console.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "fd_message.h"
#include "report.h"

namespace tcbuild {
namespace {

void send_fd(int socket, int fd) {
  FdMessage message;
  message.set_fd(fd);
  ssize_t sent;
  while ((sent = sendmsg(socket, message.header(), MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  if (sent < 0) fail(errno, "send the console to tcbuild");
}

}  // namespace

int open_console(const ContainerSpec& spec, int socket) {
  // /dev/ptmx links to pts/ptmx: the container's own devpts instance.
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) fail(errno, "open /dev/ptmx");
  int unlock = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0) fail(errno, "unlock the console");
  int terminal = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (terminal < 0) fail(errno, "open the console's terminal");
  winsize size{spec.console_rows, spec.console_columns, 0, 0};
  if (ioctl(master, TIOCSWINSZ, &size) < 0) fail(errno, "set the console's size");
  send_fd(socket, master);
  close(master);
  close(socket);
  return terminal;
}

void attach_console(int terminal, uid_t owner) {
  if (setsid() < 0) fail(errno, "start a session for the console");
  if (ioctl(terminal, TIOCSCTTY, 0) < 0) fail(errno, "make the console the controlling terminal");
  if (fchown(terminal, owner, static_cast<gid_t>(-1)) < 0) fail(errno, "give the console to the user");
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (dup2(terminal, fd) < 0) fail(errno, "make the console the standard streams");
  }
  close(terminal);
}

}  // namespace tcbuild
