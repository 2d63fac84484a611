// Text built in a fixed-size buffer, without allocating: usable between clone
// and exec, where malloc may deadlock.
#pragma once

#include <cstddef>

namespace tcbuild {

template <size_t N>
class FixedText {
 public:
  FixedText() { buf_[0] = '\0'; }

  FixedText& operator<<(const char* s) {
    while (*s != '\0') put(*s++);
    return *this;
  }

  FixedText& operator<<(long long n) {
    char digits[24];
    size_t count = 0;
    unsigned long long magnitude = n < 0 ? 0ULL - static_cast<unsigned long long>(n) : n;
    do {
      digits[count++] = static_cast<char>('0' + magnitude % 10);
      magnitude /= 10;
    } while (magnitude != 0);
    if (n < 0) put('-');
    while (count > 0) put(digits[--count]);
    return *this;
  }

  FixedText& append(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) put(s[i]);
    return *this;
  }

  // Keeps the first `len` characters.
  void truncate(size_t len) {
    if (len < len_) {
      len_ = len;
      buf_[len_] = '\0';
    }
  }

  const char* c_str() const { return buf_; }
  size_t size() const { return len_; }
  bool truncated() const { return truncated_; }

 private:
  void put(char c) {
    if (len_ + 1 < N) {
      buf_[len_++] = c;
      buf_[len_] = '\0';
    } else {
      truncated_ = true;
    }
  }

  char buf_[N];
  size_t len_ = 0;
  bool truncated_ = false;
};

}  // namespace tcbuild
