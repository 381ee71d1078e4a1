// Cryptographic randomness from the operating system (getrandom(2)). This is the only source
// loom uses for keys and encryption noise; modules that need a fast stream expand a seed from
// here with a standard XOF/stream cipher (ckks uses libsodium).
//
// Thread-safety: all functions may be called concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "loom/base/status.h"

namespace loom {

// Fills `out` from the OS CSPRNG. Fails (Unavailable) only if the kernel source fails.
Status OsRandomBytes(std::span<uint8_t> out);

// A small buffered reader over OsRandomBytes. Each instance draws fresh OS randomness;
// there is no seed and no way to make it repeat.
class SecureRandom {
 public:
  SecureRandom() = default;
  SecureRandom(const SecureRandom&) = delete;
  SecureRandom& operator=(const SecureRandom&) = delete;
  ~SecureRandom();  // wipes the buffer

  // Fills `out`; LOOM_CHECKs that the OS source works (an unusable CSPRNG is not recoverable).
  void Fill(std::span<uint8_t> out);
  uint64_t NextU64();

 private:
  uint8_t buffer_[256];
  size_t pos_ = sizeof(buffer_);
};

}  // namespace loom
