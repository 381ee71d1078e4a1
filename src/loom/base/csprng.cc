#include "loom/base/csprng.h"

#include <sys/random.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace loom {

Status OsRandomBytes(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    ssize_t got = ::getrandom(out.data() + done, out.size() - done, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      return UnavailableError(std::string("getrandom failed: ") + std::strerror(errno));
    }
    done += static_cast<size_t>(got);
  }
  return OkStatus();
}

SecureRandom::~SecureRandom() {
  // volatile writes so the compiler cannot drop the wipe of secret bytes.
  volatile uint8_t* p = buffer_;
  for (size_t i = 0; i < sizeof(buffer_); ++i) p[i] = 0;
}

void SecureRandom::Fill(std::span<uint8_t> out) {
  size_t done = 0;
  while (done < out.size()) {
    if (pos_ == sizeof(buffer_)) {
      LOOM_CHECK_OK(OsRandomBytes(std::span<uint8_t>(buffer_, sizeof(buffer_))));
      pos_ = 0;
    }
    size_t n = std::min(out.size() - done, sizeof(buffer_) - pos_);
    std::memcpy(out.data() + done, buffer_ + pos_, n);
    std::memset(buffer_ + pos_, 0, n);
    pos_ += n;
    done += n;
  }
}

uint64_t SecureRandom::NextU64() {
  uint64_t v;
  Fill(std::span<uint8_t>(reinterpret_cast<uint8_t*>(&v), sizeof(v)));
  return v;
}

}  // namespace loom
