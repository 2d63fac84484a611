// A message of one byte carrying one fd (SCM_RIGHTS): how the container's
// init hands the console's master to tcbuild (console.h, console_receiver.h).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstring>

namespace tcbuild {

class FdMessage {
 public:
  FdMessage() {
    header_.msg_iov = &data_;
    header_.msg_iovlen = 1;
    header_.msg_control = control_;
    header_.msg_controllen = sizeof control_;
  }
  FdMessage(const FdMessage&) = delete;
  FdMessage& operator=(const FdMessage&) = delete;

  msghdr* header() { return &header_; }

  void set_fd(int fd) {
    cmsghdr* fd_part = CMSG_FIRSTHDR(&header_);
    fd_part->cmsg_level = SOL_SOCKET;
    fd_part->cmsg_type = SCM_RIGHTS;
    fd_part->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(fd_part), &fd, sizeof fd);
  }

  // The fd a received message carries, or -1.
  int fd() {
    cmsghdr* fd_part = CMSG_FIRSTHDR(&header_);
    if (fd_part == nullptr || fd_part->cmsg_level != SOL_SOCKET || fd_part->cmsg_type != SCM_RIGHTS) return -1;
    int fd;
    memcpy(&fd, CMSG_DATA(fd_part), sizeof fd);
    return fd;
  }

 private:
  char byte_ = 0;
  iovec data_{&byte_, 1};
  alignas(cmsghdr) char control_[CMSG_SPACE(sizeof(int))] = {};
  msghdr header_{};
};

}  // namespace tcbuild
