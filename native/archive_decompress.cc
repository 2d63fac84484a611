#include "archive_decompress.h"

#include <dlfcn.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

#include "codec_step.h"

namespace {

// The parts of bzlib.h (1.0) and lzma.h (5.x) used here, declared rather than included.
struct BzStream {
  char* next_in;
  unsigned int avail_in;
  unsigned int total_in_lo32;
  unsigned int total_in_hi32;
  char* next_out;
  unsigned int avail_out;
  unsigned int total_out_lo32;
  unsigned int total_out_hi32;
  void* state;
  void* (*bzalloc)(void*, int, int);
  void (*bzfree)(void*, void*);
  void* opaque;
};
enum : int { kBzOk = 0, kBzStreamEnd = 4 };

// Zero-initialized, it is LZMA_STREAM_INIT.
struct LzmaStream {
  const uint8_t* next_in;
  size_t avail_in;
  uint64_t total_in;
  uint8_t* next_out;
  size_t avail_out;
  uint64_t total_out;
  const void* allocator;
  void* internal;
  void* reserved_ptr[4];
  uint64_t seek_pos;
  uint64_t reserved_int2;
  size_t reserved_int3;
  size_t reserved_int4;
  int reserved_enum1;
  int reserved_enum2;
};
enum : int { kLzmaOk = 0, kLzmaStreamEnd = 1, kLzmaRun = 0, kLzmaFinish = 3 };
// Decode streams written one after another, as xz does.
constexpr uint32_t kLzmaConcatenated = 0x08;
// What the decoder may allocate: the dictionary a stream's header asks for, up to 1.5 GiB in the
// format. xz -9 needs 65 MiB to decompress; a stream that needs more is refused, not obeyed.
constexpr uint64_t kXzMemoryLimit = 256ull << 20;

struct Bz2 {
  static constexpr const char* kSoname = "libbz2.so.1.0";
  static constexpr const char* kPackage = "libbz2-1.0";
  int (*decompressInit)(BzStream*, int, int);
  int (*decompress)(BzStream*);
  int (*decompressEnd)(BzStream*);

  template <typename Bind>
  void BindAll(Bind bind) {
    bind(decompressInit, "BZ2_bzDecompressInit");
    bind(decompress, "BZ2_bzDecompress");
    bind(decompressEnd, "BZ2_bzDecompressEnd");
  }
};

struct Lzma {
  static constexpr const char* kSoname = "liblzma.so.5";
  static constexpr const char* kPackage = "liblzma5";
  int (*streamDecoder)(LzmaStream*, uint64_t, uint32_t);
  int (*code)(LzmaStream*, int);
  void (*end)(LzmaStream*);

  template <typename Bind>
  void BindAll(Bind bind) {
    bind(streamDecoder, "lzma_stream_decoder");
    bind(code, "lzma_code");
    bind(end, "lzma_end");
  }
};

// Loads `Library` once; nullptr (with `error` set) when it is missing.
template <typename Library>
const Library* Load(std::string* error) {
  static Library library;
  static std::string loadError;
  static std::once_flag once;
  std::call_once(once, [] {
    void* handle = dlopen(Library::kSoname, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      loadError = std::string("cannot load ") + Library::kSoname + " (install " + Library::kPackage + "): " + dlerror();
      return;
    }
    library.BindAll([&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, name));
      if (!fn && loadError.empty()) loadError = std::string(Library::kSoname) + " has no " + name;
    });
  });
  if (!loadError.empty()) {
    *error = loadError;
    return nullptr;
  }
  return &library;
}

using codec::Input;

struct Output {
  char* data;
  size_t size;
  size_t pos;
};

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Decodes from `in` into `out`, advancing both; `end`: no input follows. An error, or nullptr.
  virtual const char* Decode(Input* in, Output* out, bool end) = 0;
  // The input so far ends exactly where a compressed stream does.
  virtual bool Ended() const = 0;
};

const char* Bz2Error(int rc) {
  switch (rc) {
    case -3: return "out of memory";
    case -4: return "corrupt data";
    case -5: return "not bzip2 data";
    case -7: return "unexpected end of data";
    default: return "internal error";
  }
}

// bzip2, several streams one after another as pbzip2 and lbzip2 write them.
class Bz2Decoder : public Decoder {
 public:
  explicit Bz2Decoder(const Bz2* bz2) : bz2_(bz2) {}
  ~Bz2Decoder() override { Close(); }

  const char* Decode(Input* in, Output* out, bool) override {
    if (!open_) {
      if (in->pos == in->size) return nullptr;
      stream_ = BzStream{};
      if (int rc = bz2_->decompressInit(&stream_, 0, 0); rc != kBzOk) return Bz2Error(rc);
      open_ = true;
      ended_ = false;
    }
    unsigned inChunk = static_cast<unsigned>(std::min<size_t>(in->size - in->pos, UINT_MAX));
    unsigned outChunk = static_cast<unsigned>(std::min<size_t>(out->size - out->pos, UINT_MAX));
    stream_.next_in = const_cast<char*>(static_cast<const char*>(in->src) + in->pos);
    stream_.avail_in = inChunk;
    stream_.next_out = out->data + out->pos;
    stream_.avail_out = outChunk;
    int rc = bz2_->decompress(&stream_);
    in->pos += inChunk - stream_.avail_in;
    out->pos += outChunk - stream_.avail_out;
    if (rc == kBzStreamEnd) {
      Close();
      ended_ = true;
      return nullptr;
    }
    return rc == kBzOk ? nullptr : Bz2Error(rc);
  }

  bool Ended() const override { return ended_; }

 private:
  void Close() {
    if (open_) bz2_->decompressEnd(&stream_);
    open_ = false;
  }

  const Bz2* bz2_;
  BzStream stream_{};
  bool open_ = false;
  bool ended_ = false;
};

const char* LzmaError(int rc) {
  switch (rc) {
    case 5: return "out of memory";
    case 6: return "it needs more than 256 MiB of memory to decompress (xz -9 needs 65 MiB), more than tcbuild allows";
    case 7: return "not xz data";
    case 8: return "unsupported options";
    case 9: return "corrupt data";
    case 10: return "unexpected end of data";
    default: return "internal error";
  }
}

// xz, several streams one after another, as xz itself reads them.
class XzDecoder : public Decoder {
 public:
  explicit XzDecoder(const Lzma* lzma) : lzma_(lzma) {}
  ~XzDecoder() override {
    if (open_) lzma_->end(&stream_);
  }

  const char* Open() {
    int rc = lzma_->streamDecoder(&stream_, kXzMemoryLimit, kLzmaConcatenated);
    open_ = rc == kLzmaOk;
    return open_ ? nullptr : LzmaError(rc);
  }

  const char* Decode(Input* in, Output* out, bool end) override {
    if (ended_) return in->pos == in->size ? nullptr : "data after the end of the xz stream";
    size_t inChunk = in->size - in->pos;
    size_t outChunk = out->size - out->pos;
    stream_.next_in = static_cast<const uint8_t*>(in->src) + in->pos;
    stream_.avail_in = inChunk;
    stream_.next_out = reinterpret_cast<uint8_t*>(out->data + out->pos);
    stream_.avail_out = outChunk;
    int rc = lzma_->code(&stream_, end ? kLzmaFinish : kLzmaRun);
    in->pos += inChunk - stream_.avail_in;
    out->pos += outChunk - stream_.avail_out;
    ended_ = rc == kLzmaStreamEnd;
    return rc == kLzmaOk || ended_ ? nullptr : LzmaError(rc);
  }

  bool Ended() const override { return ended_; }

 private:
  const Lzma* lzma_;
  LzmaStream stream_{};
  bool open_ = false;
  bool ended_ = false;
};

// The decoder for `format`; throws when it is unknown or its library is missing.
std::unique_ptr<Decoder> NewDecoder(Napi::Env env, const std::string& format) {
  std::string error;
  if (format == "bzip2") {
    const Bz2* bz2 = Load<Bz2>(&error);
    if (!bz2) throw Napi::Error::New(env, error);
    return std::make_unique<Bz2Decoder>(bz2);
  }
  if (format == "xz") {
    const Lzma* lzma = Load<Lzma>(&error);
    if (!lzma) throw Napi::Error::New(env, error);
    auto decoder = std::make_unique<XzDecoder>(lzma);
    if (const char* failed = decoder->Open()) throw Napi::Error::New(env, std::string("xz: ") + failed);
    return decoder;
  }
  throw Napi::TypeError::New(env, "DecompressStream(format): format must be 'bzip2' or 'xz'");
}

// One call stops once its output reaches this size, so a tiny input that decompresses to
// gigabytes never needs more memory than this.
constexpr size_t kOutputCap = 1 << 20;
constexpr size_t kOutputStep = 128 << 10;

class DecompressStream : public Napi::ObjectWrap<DecompressStream>, public codec::Steppable {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DecompressStream",
                       {InstanceMethod("run", &DecompressStream::Run), InstanceMethod("close", &DecompressStream::Close)});
  }

  explicit DecompressStream(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DecompressStream>(info) {
    if (info.Length() != 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "DecompressStream(format: string)");
    format_ = info[0].As<Napi::String>().Utf8Value();
    decoder_ = NewDecoder(info.Env(), format_);
  }

  // One step, run off the JS thread: decodes until the input is used and nothing is pending, or
  // the output reaches kOutputCap. Returns an error or nullptr.
  const char* Step(const Input& input, bool end, codec::StepResult* result) override {
    std::vector<char>* output = &result->output;
    Input in = input;
    for (;;) {
      size_t start = output->size();
      output->resize(start + kOutputStep);
      Output out = {output->data() + start, kOutputStep, 0};
      size_t before = in.pos;
      const char* error = decoder_->Decode(&in, &out, end);
      output->resize(start + out.pos);
      if (error) return error;
      bool stuck = in.pos == before && out.pos == 0;
      if (stuck && in.pos < in.size) return "no progress on the input";
      if (stuck || (in.pos == in.size && out.pos < kOutputStep) || output->size() >= kOutputCap) break;
    }
    result->consumed = in.pos;
    result->finished = decoder_->Ended();
    return nullptr;
  }

 private:
  Napi::Value Run(const Napi::CallbackInfo& info) { return codec::QueueStep(this, decoder_ != nullptr, format_, "DecompressStream", info); }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (busy) throw Napi::Error::New(info.Env(), "DecompressStream.close() while a run() is in progress");
    decoder_.reset();
    return info.Env().Undefined();
  }

  std::string format_;
  std::unique_ptr<Decoder> decoder_;
};

}  // namespace

void RegisterArchiveDecompress(Napi::Env env, Napi::Object exports) {
  exports.Set("DecompressStream", DecompressStream::Define(env));
}
