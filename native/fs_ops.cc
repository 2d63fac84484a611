#include "fs_ops.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

// Throws a Node-style error: message "ELOOP: <strerror>, openat2 'path'", with code/errno/syscall.
Napi::Value ThrowErrno(Napi::Env env, int err, const char* syscall, const std::string& path) {
  const char* code = strerrorname_np(err);
  std::string message = std::string(code ? code : "E?") + ": " + strerror(err) + ", " + syscall;
  if (!path.empty()) message += " '" + path + "'";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code ? code : "E?"));
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("syscall", Napi::String::New(env, syscall));
  if (!path.empty()) error.Set("path", Napi::String::New(env, path));
  error.ThrowAsJavaScriptException();
  return env.Undefined();
}

bool CheckArgs(const Napi::CallbackInfo& info, const char* signature) {
  // signature: one letter per argument: i = integer, s = string, b = buffer, ? = boolean
  size_t n = strlen(signature);
  bool ok = info.Length() == n;
  for (size_t i = 0; ok && i < n; i++) {
    switch (signature[i]) {
      case 'i': ok = info[i].IsNumber(); break;
      case 's': ok = info[i].IsString(); break;
      case 'b': ok = info[i].IsBuffer(); break;
      case '?': ok = info[i].IsBoolean(); break;
    }
  }
  if (!ok) {
    Napi::TypeError::New(info.Env(), std::string("fsOps: bad arguments, expected (") + signature + ")")
        .ThrowAsJavaScriptException();
  }
  return ok;
}

int Int(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int32Value(); }
int64_t Int64(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }
std::string Str(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::String>().Utf8Value(); }

// openat2(dirfd, path, flags, mode, resolve) -> fd
Napi::Value Openat2(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "isiii")) return info.Env().Undefined();
  std::string path = Str(info, 1);
  struct open_how how = {};
  how.flags = static_cast<uint64_t>(static_cast<uint32_t>(Int(info, 2)));
  how.mode = static_cast<uint64_t>(Int(info, 3));
  how.resolve = static_cast<uint64_t>(Int(info, 4));
  long fd;
  do {
    fd = syscall(SYS_openat2, Int(info, 0), path.c_str(), &how, sizeof how);
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0) return ThrowErrno(info.Env(), errno, "openat2", path);
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

// mkdirat(dirfd, name, mode)
Napi::Value Mkdirat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "isi")) return info.Env().Undefined();
  std::string name = Str(info, 1);
  if (mkdirat(Int(info, 0), name.c_str(), Int(info, 2)) != 0) return ThrowErrno(info.Env(), errno, "mkdirat", name);
  return info.Env().Undefined();
}

// mknodat(dirfd, name, mode incl. S_IFCHR/S_IFBLK/S_IFIFO, major, minor)
Napi::Value Mknodat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "isiii")) return info.Env().Undefined();
  std::string name = Str(info, 1);
  dev_t dev = makedev(static_cast<unsigned>(Int(info, 3)), static_cast<unsigned>(Int(info, 4)));
  if (mknodat(Int(info, 0), name.c_str(), Int(info, 2), dev) != 0) return ThrowErrno(info.Env(), errno, "mknodat", name);
  return info.Env().Undefined();
}

// symlinkat(target, dirfd, name)
Napi::Value Symlinkat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "sis")) return info.Env().Undefined();
  std::string target = Str(info, 0), name = Str(info, 2);
  if (symlinkat(target.c_str(), Int(info, 1), name.c_str()) != 0) return ThrowErrno(info.Env(), errno, "symlinkat", name);
  return info.Env().Undefined();
}

// linkat(olddirfd, oldname, newdirfd, newname) — never follows a symlink at oldname.
Napi::Value Linkat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "isis")) return info.Env().Undefined();
  std::string oldName = Str(info, 1), newName = Str(info, 3);
  if (linkat(Int(info, 0), oldName.c_str(), Int(info, 2), newName.c_str(), 0) != 0) {
    return ThrowErrno(info.Env(), errno, "linkat", newName);
  }
  return info.Env().Undefined();
}

// unlinkat(dirfd, name, isDir)
Napi::Value Unlinkat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "is?")) return info.Env().Undefined();
  std::string name = Str(info, 1);
  int flags = info[2].As<Napi::Boolean>().Value() ? AT_REMOVEDIR : 0;
  if (unlinkat(Int(info, 0), name.c_str(), flags) != 0) return ThrowErrno(info.Env(), errno, "unlinkat", name);
  return info.Env().Undefined();
}

// fchownat(dirfd, name, uid, gid) without following a final symlink.
Napi::Value Fchownat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "isii")) return info.Env().Undefined();
  std::string name = Str(info, 1);
  uid_t uid = static_cast<uid_t>(Int64(info, 2));
  gid_t gid = static_cast<gid_t>(Int64(info, 3));
  if (fchownat(Int(info, 0), name.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
    return ThrowErrno(info.Env(), errno, "fchownat", name);
  }
  return info.Env().Undefined();
}

// fchmodat(dirfd, name, mode) — callers never pass a symlink (Linux cannot chmod one).
Napi::Value Fchmodat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "isi")) return info.Env().Undefined();
  std::string name = Str(info, 1);
  if (fchmodat(Int(info, 0), name.c_str(), static_cast<mode_t>(Int(info, 2)), 0) != 0) {
    return ThrowErrno(info.Env(), errno, "fchmodat", name);
  }
  return info.Env().Undefined();
}

// utimensat(dirfd, name, atimeSec, atimeNsec, mtimeSec, mtimeNsec) without following a final symlink.
Napi::Value Utimensat(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "isiiii")) return info.Env().Undefined();
  std::string name = Str(info, 1);
  struct timespec times[2];
  times[0].tv_sec = Int64(info, 2);
  times[0].tv_nsec = Int64(info, 3);
  times[1].tv_sec = Int64(info, 4);
  times[1].tv_nsec = Int64(info, 5);
  if (utimensat(Int(info, 0), name.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
    return ThrowErrno(info.Env(), errno, "utimensat", name);
  }
  return info.Env().Undefined();
}

// lstatMode(dirfd, name) -> st_mode, or null when the name does not exist.
Napi::Value LstatMode(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "is")) return info.Env().Undefined();
  std::string name = Str(info, 1);
  struct stat st;
  if (fstatat(Int(info, 0), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return info.Env().Null();
    return ThrowErrno(info.Env(), errno, "fstatat", name);
  }
  return Napi::Number::New(info.Env(), st.st_mode);
}

// lsetxattr(path, name, value)
Napi::Value Lsetxattr(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "ssb")) return info.Env().Undefined();
  std::string path = Str(info, 0), name = Str(info, 1);
  Napi::Buffer<uint8_t> value = info[2].As<Napi::Buffer<uint8_t>>();
  if (lsetxattr(path.c_str(), name.c_str(), value.Data(), value.Length(), 0) != 0) {
    return ThrowErrno(info.Env(), errno, "lsetxattr", path + " " + name);
  }
  return info.Env().Undefined();
}

// lgetxattr(path, name) -> Buffer, or null when the attribute is absent.
Napi::Value Lgetxattr(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "ss")) return info.Env().Undefined();
  std::string path = Str(info, 0), name = Str(info, 1);
  for (;;) {
    ssize_t size = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (size < 0) {
      if (errno == ENODATA || errno == ENOTSUP) return info.Env().Null();
      return ThrowErrno(info.Env(), errno, "lgetxattr", path + " " + name);
    }
    std::vector<uint8_t> value(static_cast<size_t>(size));
    ssize_t got = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (got < 0 && errno == ERANGE) continue;  // grew between the two calls
    if (got < 0) return ThrowErrno(info.Env(), errno, "lgetxattr", path + " " + name);
    return Napi::Buffer<uint8_t>::Copy(info.Env(), value.data(), static_cast<size_t>(got));
  }
}

// llistxattr(path) -> string[]
Napi::Value Llistxattr(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "s")) return info.Env().Undefined();
  std::string path = Str(info, 0);
  for (;;) {
    ssize_t size = llistxattr(path.c_str(), nullptr, 0);
    if (size < 0) {
      if (errno == ENOTSUP) return Napi::Array::New(info.Env());
      return ThrowErrno(info.Env(), errno, "llistxattr", path);
    }
    std::vector<char> names(static_cast<size_t>(size));
    ssize_t got = llistxattr(path.c_str(), names.data(), names.size());
    if (got < 0 && errno == ERANGE) continue;
    if (got < 0) return ThrowErrno(info.Env(), errno, "llistxattr", path);
    Napi::Array result = Napi::Array::New(info.Env());
    uint32_t n = 0;
    for (ssize_t start = 0; start < got;) {
      std::string name(names.data() + start);
      start += static_cast<ssize_t>(name.size()) + 1;
      result.Set(n++, Napi::String::New(info.Env(), name));
    }
    return result;
  }
}

// flock(fd, "shared" | "exclusive" | "unlock") -> false when another open file holds a conflicting
// lock (never waits: a caller on the event loop polls).
Napi::Value Flock(const Napi::CallbackInfo& info) {
  if (!CheckArgs(info, "is")) return info.Env().Undefined();
  std::string mode = Str(info, 1);
  int op = mode == "shared" ? LOCK_SH : mode == "exclusive" ? LOCK_EX : mode == "unlock" ? LOCK_UN : -1;
  if (op < 0) {
    Napi::TypeError::New(info.Env(), "fsOps.flock: mode is shared, exclusive or unlock").ThrowAsJavaScriptException();
    return info.Env().Undefined();
  }
  int rc;
  do {
    rc = flock(Int(info, 0), op | LOCK_NB);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0 && errno == EWOULDBLOCK) return Napi::Boolean::New(info.Env(), false);
  if (rc != 0) return ThrowErrno(info.Env(), errno, "flock", "");
  return Napi::Boolean::New(info.Env(), true);
}

}  // namespace

void RegisterFsOps(Napi::Env env, Napi::Object exports) {
  Napi::Object ops = Napi::Object::New(env);
  ops.Set("openat2", Napi::Function::New(env, Openat2, "openat2"));
  ops.Set("mkdirat", Napi::Function::New(env, Mkdirat, "mkdirat"));
  ops.Set("mknodat", Napi::Function::New(env, Mknodat, "mknodat"));
  ops.Set("symlinkat", Napi::Function::New(env, Symlinkat, "symlinkat"));
  ops.Set("linkat", Napi::Function::New(env, Linkat, "linkat"));
  ops.Set("unlinkat", Napi::Function::New(env, Unlinkat, "unlinkat"));
  ops.Set("fchownat", Napi::Function::New(env, Fchownat, "fchownat"));
  ops.Set("fchmodat", Napi::Function::New(env, Fchmodat, "fchmodat"));
  ops.Set("utimensat", Napi::Function::New(env, Utimensat, "utimensat"));
  ops.Set("lstatMode", Napi::Function::New(env, LstatMode, "lstatMode"));
  ops.Set("lsetxattr", Napi::Function::New(env, Lsetxattr, "lsetxattr"));
  ops.Set("lgetxattr", Napi::Function::New(env, Lgetxattr, "lgetxattr"));
  ops.Set("llistxattr", Napi::Function::New(env, Llistxattr, "llistxattr"));
  ops.Set("flock", Napi::Function::New(env, Flock, "flock"));

  Napi::Object constants = Napi::Object::New(env);
  constants.Set("AT_FDCWD", Napi::Number::New(env, AT_FDCWD));
  constants.Set("O_PATH", Napi::Number::New(env, O_PATH));
  constants.Set("O_CLOEXEC", Napi::Number::New(env, O_CLOEXEC));
  constants.Set("O_DIRECTORY", Napi::Number::New(env, O_DIRECTORY));
  constants.Set("O_NOFOLLOW", Napi::Number::New(env, O_NOFOLLOW));
  constants.Set("O_CREAT", Napi::Number::New(env, O_CREAT));
  constants.Set("O_EXCL", Napi::Number::New(env, O_EXCL));
  constants.Set("O_WRONLY", Napi::Number::New(env, O_WRONLY));
  constants.Set("RESOLVE_BENEATH", Napi::Number::New(env, RESOLVE_BENEATH));
  constants.Set("RESOLVE_IN_ROOT", Napi::Number::New(env, RESOLVE_IN_ROOT));
  constants.Set("RESOLVE_NO_SYMLINKS", Napi::Number::New(env, RESOLVE_NO_SYMLINKS));
  constants.Set("RESOLVE_NO_MAGICLINKS", Napi::Number::New(env, RESOLVE_NO_MAGICLINKS));
  constants.Set("RESOLVE_NO_XDEV", Napi::Number::New(env, RESOLVE_NO_XDEV));
  constants.Set("S_IFCHR", Napi::Number::New(env, S_IFCHR));
  constants.Set("S_IFBLK", Napi::Number::New(env, S_IFBLK));
  constants.Set("S_IFIFO", Napi::Number::New(env, S_IFIFO));
  ops.Set("constants", constants);

  exports.Set("fsOps", ops);
}
