#include "console_receiver.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "fd_message.h"

namespace tcbuild {
namespace {

// Blocks in recvmsg on a threadpool thread; the init sends the master right
// after setting up the container, or dies and so closes the socket.
class ConsoleReceiver : public Napi::AsyncWorker {
 public:
  ConsoleReceiver(Napi::Env env, int socket)
      : Napi::AsyncWorker(env, "tcbuild.receiveConsole"), socket_(socket), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    int master = receive_fd();
    int error = errno;
    close(socket_);
    if (master == -1) return SetError(std::string("receive the container's console: ") + strerror(error));
    if (master < 0) return;
    master_write_ = fcntl(master, F_DUPFD_CLOEXEC, 0);
    if (master_write_ < 0) {
      error = errno;
      close(master);
      return SetError(std::string("duplicate the container's console: ") + strerror(error));
    }
    master_read_ = master;
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (master_read_ < 0) return deferred_.Resolve(env.Null());
    Napi::Object fds = Napi::Object::New(env);
    fds.Set("read", master_read_);
    fds.Set("write", master_write_);
    deferred_.Resolve(fds);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  // The fd, -2 if the socket closed without one, or -1 (errno set).
  int receive_fd() {
    FdMessage message;
    ssize_t received;
    while ((received = recvmsg(socket_, message.header(), MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
    }
    if (received < 0) return -1;
    int fd = message.fd();
    return received == 0 || fd < 0 ? -2 : fd;
  }

  int socket_;
  int master_read_ = -1;
  int master_write_ = -1;
  Napi::Promise::Deferred deferred_;
};

int integer_argument(const Napi::CallbackInfo& info, size_t index, const char* what) {
  if (!info[index].IsNumber()) throw Napi::TypeError::New(info.Env(), std::string("expected ") + what);
  return info[index].As<Napi::Number>().Int32Value();
}

Napi::Value ReceiveConsole(const Napi::CallbackInfo& info) {
  auto* receiver = new ConsoleReceiver(info.Env(), integer_argument(info, 0, "a socket"));
  Napi::Promise promise = receiver->promise();
  receiver->Queue();
  return promise;
}

Napi::Value SetConsoleSize(const Napi::CallbackInfo& info) {
  int fd = integer_argument(info, 0, "a file descriptor");
  winsize size{static_cast<unsigned short>(integer_argument(info, 1, "rows")),
               static_cast<unsigned short>(integer_argument(info, 2, "columns")), 0, 0};
  if (ioctl(fd, TIOCSWINSZ, &size) < 0) {
    throw Napi::Error::New(info.Env(), std::string("resize the container's console: ") + strerror(errno));
  }
  return info.Env().Undefined();
}

}  // namespace

void RegisterConsole(Napi::Env env, Napi::Object exports) {
  exports.Set("receiveConsole", Napi::Function::New(env, ReceiveConsole, "receiveConsole"));
  exports.Set("setConsoleSize", Napi::Function::New(env, SetConsoleSize, "setConsoleSize"));
}

}  // namespace tcbuild
