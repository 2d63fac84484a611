#include "zstd_stream.h"

#include <dlfcn.h>

#include "codec_step.h"

#include <mutex>
#include <string>
#include <vector>

namespace {

// The parts of zstd's stable API (zstd.h, 1.4+) used here, declared rather than included.
using InBuffer = codec::Input;
struct OutBuffer {
  void* dst;
  size_t size;
  size_t pos;
};
enum : int { kCompressionLevel = 100, kChecksumFlag = 201, kNbWorkers = 400, kJobSize = 401, kWindowLogMax = 100 };
enum : int { kEndContinue = 0, kEndFrame = 2 };

struct Zstd {
  void* (*createCCtx)();
  size_t (*freeCCtx)(void*);
  size_t (*cctxSetParameter)(void*, int, int);
  size_t (*compressStream2)(void*, OutBuffer*, InBuffer*, int);
  void* (*createDCtx)();
  size_t (*freeDCtx)(void*);
  size_t (*dctxSetParameter)(void*, int, int);
  size_t (*decompressStream)(void*, OutBuffer*, InBuffer*);
  unsigned (*isError)(size_t);
  const char* (*getErrorName)(size_t);
};

// Loads libzstd once; nullptr (with `error` set) when it is missing.
const Zstd* LoadZstd(std::string* error) {
  static Zstd zstd;
  static std::string loadError;
  static std::once_flag once;
  static bool ok = false;
  std::call_once(once, [] {
    void* lib = dlopen("libzstd.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      loadError = std::string("cannot load libzstd.so.1 (install libzstd1): ") + dlerror();
      return;
    }
    auto bind = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      if (!fn && loadError.empty()) loadError = std::string("libzstd.so.1 has no ") + name;
    };
    bind(zstd.createCCtx, "ZSTD_createCCtx");
    bind(zstd.freeCCtx, "ZSTD_freeCCtx");
    bind(zstd.cctxSetParameter, "ZSTD_CCtx_setParameter");
    bind(zstd.compressStream2, "ZSTD_compressStream2");
    bind(zstd.createDCtx, "ZSTD_createDCtx");
    bind(zstd.freeDCtx, "ZSTD_freeDCtx");
    bind(zstd.dctxSetParameter, "ZSTD_DCtx_setParameter");
    bind(zstd.decompressStream, "ZSTD_decompressStream");
    bind(zstd.isError, "ZSTD_isError");
    bind(zstd.getErrorName, "ZSTD_getErrorName");
    ok = loadError.empty();
  });
  if (!ok) *error = loadError;
  return ok ? &zstd : nullptr;
}

// One call stops once its output reaches this size, so a tiny input that decompresses to
// gigabytes (zeros) never needs more memory than this.
constexpr size_t kOutputCap = 1 << 20;
constexpr size_t kOutputStep = 128 << 10;
// Bytes of input per multi-threaded compression job.
constexpr int kJobBytes = 2 << 20;
// Decompression refuses frames whose window exceeds 2^27 bytes (zstd's default limit, as the CLI).
constexpr int kMaxWindowLog = 27;

class ZstdStream : public Napi::ObjectWrap<ZstdStream>, public codec::Steppable {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "ZstdStream",
                       {InstanceMethod("run", &ZstdStream::Run), InstanceMethod("close", &ZstdStream::Close)});
  }

  explicit ZstdStream(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ZstdStream>(info) {
    Napi::Env env = info.Env();
    if (info.Length() != 3 || !info[0].IsBoolean() || !info[1].IsNumber() || !info[2].IsNumber()) {
      throw Napi::TypeError::New(env, "ZstdStream(compress: boolean, level: number, workers: number)");
    }
    std::string error;
    zstd_ = LoadZstd(&error);
    if (!zstd_) throw Napi::Error::New(env, error);
    compress_ = info[0].As<Napi::Boolean>().Value();
    ctx_ = compress_ ? zstd_->createCCtx() : zstd_->createDCtx();
    if (!ctx_) throw Napi::Error::New(env, "zstd: out of memory");
    size_t rc = compress_ ? SetCompressParameters(info[1].As<Napi::Number>().Int32Value(), info[2].As<Napi::Number>().Int32Value())
                          : zstd_->dctxSetParameter(ctx_, kWindowLogMax, kMaxWindowLog);
    if (zstd_->isError(rc)) throw Napi::Error::New(env, std::string("zstd: ") + zstd_->getErrorName(rc));
  }

  ~ZstdStream() override { Free(); }

  // One step, run off the JS thread. Returns an error name or nullptr.
  const char* Step(const InBuffer& input, bool end, codec::StepResult* result) override {
    std::vector<char>* output = &result->output;
    InBuffer in = input;
    size_t rc = 0;
    for (;;) {
      size_t start = output->size();
      output->resize(start + kOutputStep);
      OutBuffer out = {output->data() + start, kOutputStep, 0};
      rc = compress_ ? zstd_->compressStream2(ctx_, &out, &in, end ? kEndFrame : kEndContinue)
                     : zstd_->decompressStream(ctx_, &out, &in);
      output->resize(start + out.pos);
      if (zstd_->isError(rc)) return zstd_->getErrorName(rc);
      bool inputDone = in.pos == in.size;
      bool flushed = compress_ ? (!end || rc == 0) : out.pos < kOutputStep;
      if ((inputDone && flushed) || output->size() >= kOutputCap) break;
    }
    result->consumed = in.pos;
    // compress: the frame is complete; decompress: input ended exactly at a frame's end.
    result->finished = rc == 0;
    return nullptr;
  }

 private:
  size_t SetCompressParameters(int level, int workers) {
    size_t rc = zstd_->cctxSetParameter(ctx_, kCompressionLevel, level);
    if (!zstd_->isError(rc)) rc = zstd_->cctxSetParameter(ctx_, kChecksumFlag, 0);
    // Any worker count ≥ 1 gives the same bytes: jobs are cut by size, not by thread.
    if (!zstd_->isError(rc)) rc = zstd_->cctxSetParameter(ctx_, kNbWorkers, workers < 1 ? 1 : workers);
    // A fixed job size (part of what determines the bytes) small enough to keep memory flat.
    if (!zstd_->isError(rc)) rc = zstd_->cctxSetParameter(ctx_, kJobSize, kJobBytes);
    return rc;
  }

  Napi::Value Run(const Napi::CallbackInfo& info) { return codec::QueueStep(this, ctx_ != nullptr, "zstd", "ZstdStream", info); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (busy) throw Napi::Error::New(info.Env(), "ZstdStream.close() while a run() is in progress");
    Free();
    return info.Env().Undefined();
  }

  void Free() {
    if (!ctx_) return;
    if (compress_) zstd_->freeCCtx(ctx_);
    else zstd_->freeDCtx(ctx_);
    ctx_ = nullptr;
  }

  const Zstd* zstd_ = nullptr;
  void* ctx_ = nullptr;
  bool compress_ = true;
};

}  // namespace

void RegisterZstd(Napi::Env env, Napi::Object exports) { exports.Set("ZstdStream", ZstdStream::Define(env)); }
