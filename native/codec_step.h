// What the addon's streaming codecs share (zstd_stream.cc, archive_decompress.cc): their
// run(input, end, callback(err, { output, consumed, finished })) does one step on the libuv
// thread pool, one at a time.
#pragma once
#include <napi.h>

#include <string>
#include <vector>

namespace codec {

// A step's input and how much of it is used: the layout of ZSTD_inBuffer.
struct Input {
  const void* src;
  size_t size;
  size_t pos;
};

struct StepResult {
  std::vector<char> output;
  // Bytes of the input used; the rest must be passed again.
  size_t consumed = 0;
  bool finished = false;
};

// A stream run() can step: Step runs off the JS thread, `busy` is true meanwhile.
class Steppable {
 public:
  virtual ~Steppable() = default;
  // One step; an error text or nullptr.
  virtual const char* Step(const Input& input, bool end, StepResult* result) = 0;
  bool busy = false;
};

class StepWorker : public Napi::AsyncWorker {
 public:
  StepWorker(Steppable* stream, const std::string& name, Napi::Object self, Napi::Buffer<char> input, bool end, Napi::Function callback)
      : Napi::AsyncWorker(callback, "tcbuild:codec"), stream_(stream), name_(name), end_(end) {
    self_ = Napi::Persistent(self);
    input_ = Napi::Persistent(input.As<Napi::Object>());
    in_ = {input.Data(), input.Length(), 0};
  }

  void Execute() override {
    if (const char* error = stream_->Step(in_, end_, &result_)) SetError(name_ + ": " + error);
  }

  void OnOK() override {
    stream_->busy = false;
    Napi::Env env = Env();
    Napi::Object result = Napi::Object::New(env);
    result.Set("output", Napi::Buffer<char>::Copy(env, result_.output.data(), result_.output.size()));
    result.Set("consumed", Napi::Number::New(env, static_cast<double>(result_.consumed)));
    result.Set("finished", Napi::Boolean::New(env, result_.finished));
    Callback().Call({env.Null(), result});
  }

  void OnError(const Napi::Error& error) override {
    stream_->busy = false;
    Callback().Call({error.Value()});
  }

 private:
  Steppable* stream_;
  std::string name_;
  Napi::ObjectReference self_;
  Napi::ObjectReference input_;
  Input in_;
  bool end_;
  StepResult result_;
};

// run(input: Buffer, end: boolean, callback) of the JS class `className`; `open` is false once closed.
inline Napi::Value QueueStep(Steppable* stream, bool open, const std::string& name, const std::string& className, const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 3 || !info[0].IsBuffer() || !info[1].IsBoolean() || !info[2].IsFunction()) {
    throw Napi::TypeError::New(env, className + ".run(input: Buffer, end: boolean, callback)");
  }
  if (!open) throw Napi::Error::New(env, className + ".run() after close()");
  if (stream->busy) throw Napi::Error::New(env, className + ".run() while another run() is in progress");
  stream->busy = true;
  auto* worker = new StepWorker(stream, name, info.This().As<Napi::Object>(), info[0].As<Napi::Buffer<char>>(),
                                info[1].As<Napi::Boolean>().Value(), info[2].As<Napi::Function>());
  worker->Queue();
  return env.Undefined();
}

}  // namespace codec
