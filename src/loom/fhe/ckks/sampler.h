// Randomness for keys, masks and errors. A Sampler reads a fresh 32-byte seed from the OS
// CSPRNG (loom::OsRandomBytes, getrandom) and expands it with ChaCha20 (libsodium's
// crypto_stream_chacha20, 64-bit block counter, fresh nonce per refill). There is no way to
// seed it: it never repeats and never uses loom::Prng. Samplers are branch-free in the values
// they produce (ternary by multiply-high, errors by centered binomial popcounts).
// Thread-safety: one Sampler per thread (it mutates its buffer); the seed is wiped on destruction.
#pragma once

#include <cstdint>
#include <span>

#include "loom/fhe/ckks/context.h"

namespace loom::ckks {

// Centered binomial error: sum of 21 bit differences, variance 10.5 (sigma 3.24 vs the
// HE standard's 3.2; the tails are bounded by 21, no rejection, no table lookups).
inline constexpr int kErrorBinomialK = 21;

class Sampler {
 public:
  Sampler();
  ~Sampler();
  Sampler(const Sampler&) = delete;
  Sampler& operator=(const Sampler&) = delete;

  uint64_t NextU64();
  // Signed values written as residues into `limbs` rows of n over primes 0..limbs-1 of the
  // context's chain; `prime_index` maps row r to the context prime index.
  void Ternary(const Context& ctx, std::span<const size_t> prime_index, uint64_t* out);
  void Error(const Context& ctx, std::span<const size_t> prime_index, uint64_t* out);
  // Uniform in [0, q) for each row (public masks; rejection sampling, no secret involved).
  void Uniform(const Context& ctx, std::span<const size_t> prime_index, uint64_t* out);
  // Uniform integers in [-bound, bound] (noise flooding), bound < 2^62, written as residues.
  void Flood(const Context& ctx, std::span<const size_t> prime_index, uint64_t bound,
             uint64_t* out);

 private:
  void Refill();
  uint8_t key_[32];
  uint64_t nonce_ = 0;
  uint64_t buf_[64];
  size_t pos_ = 64;
};

}  // namespace loom::ckks
