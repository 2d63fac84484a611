// netconnect tcp ADDRESS PORT [REQUEST]: connects (IPv4 or IPv6 literal), sends REQUEST (where
//   the two characters \r and \n stand for CR and LF) and prints the first line of the reply;
// netconnect abstract NAME: connects to the abstract unix socket "\0NAME".
// Prints "connected" and exits 0, or "failed: <why>" and exits 1; gives up after 10 s.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int fail(const char *why) {
  printf("failed: %s\n", why);
  return 1;
}

static int connect_within(int fd, const struct sockaddr *addr, socklen_t len) {
  fcntl(fd, F_SETFL, O_NONBLOCK);
  if (connect(fd, addr, len) == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  struct pollfd p = {fd, POLLOUT, 0};
  if (poll(&p, 1, 10000) != 1) return ETIMEDOUT;
  int error = 0;
  socklen_t size = sizeof error;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size);
  return error;
}

static int print_reply_line(int fd, const char *escaped) {
  char request[1024];
  size_t length = 0;
  for (const char *c = escaped; *c && length < sizeof request; c++) {
    int escape = c[0] == '\\' && (c[1] == 'r' || c[1] == 'n');
    request[length++] = escape ? (*++c == 'r' ? '\r' : '\n') : *c;
  }
  fcntl(fd, F_SETFL, 0);
  if (write(fd, request, length) < 0) return fail(strerror(errno));
  char line[256];
  size_t used = 0;
  struct pollfd p = {fd, POLLIN, 0};
  while (used < sizeof line - 1 && poll(&p, 1, 10000) == 1) {
    ssize_t n = read(fd, line + used, 1);
    if (n <= 0 || line[used] == '\r' || line[used] == '\n') break;
    used++;
  }
  line[used] = 0;
  printf("%s\n", line);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "tcp") == 0) {
    struct sockaddr_in v4 = {0};
    struct sockaddr_in6 v6 = {0};
    int six = strchr(argv[2], ':') != NULL;
    if (six ? inet_pton(AF_INET6, argv[2], &v6.sin6_addr) != 1 : inet_pton(AF_INET, argv[2], &v4.sin_addr) != 1) return fail("bad address");
    v4.sin_family = AF_INET;
    v4.sin_port = htons(atoi(argv[3]));
    v6.sin6_family = AF_INET6;
    v6.sin6_port = v4.sin_port;
    int fd = socket(six ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return fail(strerror(errno));
    int error = six ? connect_within(fd, (struct sockaddr *)&v6, sizeof v6) : connect_within(fd, (struct sockaddr *)&v4, sizeof v4);
    if (error != 0) return fail(strerror(error));
    printf("connected\n");
    return argc >= 5 ? print_reply_line(fd, argv[4]) : 0;
  }
  if (argc == 3 && strcmp(argv[1], "abstract") == 0) {
    struct sockaddr_un addr = {0};
    addr.sun_family = AF_UNIX;
    size_t len = strlen(argv[2]);
    if (len + 1 > sizeof addr.sun_path) return fail("name too long");
    memcpy(addr.sun_path + 1, argv[2], len);
    // The name as most programs bind it, and NUL-padded to the whole sun_path, as Node does.
    socklen_t lengths[] = {(socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len), sizeof addr};
    int error = 0;
    for (int i = 0; i < 2; i++) {
      int fd = socket(AF_UNIX, SOCK_STREAM, 0);
      if (fd < 0) return fail(strerror(errno));
      error = connect_within(fd, (struct sockaddr *)&addr, lengths[i]);
      close(fd);
      if (error == 0) break;
    }
    if (error != 0) return fail(strerror(error));
    printf("connected\n");
    return 0;
  }
  fprintf(stderr, "usage: netconnect tcp ADDRESS PORT [REQUEST] | netconnect abstract NAME\n");
  return 2;
}
