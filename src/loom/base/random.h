// Prng: the seedable, reproducible generator for algorithms (sampling, initialisation,
// search tie-breaking). xoshiro256** seeded through splitmix64; satisfies
// UniformRandomBitGenerator so it works with <random> distributions.
//
// NEVER use Prng for cryptography (keys, noise): use SecureRandom (csprng.h).
// Thread-safety: none; give each thread its own Prng (e.g. Prng(seed).Fork(thread_index)).
#pragma once

#include <cstdint>
#include <limits>

namespace loom {

class Prng {
 public:
  using result_type = uint64_t;

  explicit Prng(uint64_t seed = 0) { Seed(seed); }

  void Seed(uint64_t seed) {
    uint64_t x = seed;
    for (auto& s : s_) s = SplitMix64(x);
  }

  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return std::numeric_limits<uint64_t>::max(); }

  uint64_t operator()() { return Next(); }

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound), bound >= 1, without modulo bias (Lemire's method).
  uint64_t Uniform(uint64_t bound) {
    unsigned __int128 m = static_cast<unsigned __int128>(Next()) * bound;
    uint64_t low = static_cast<uint64_t>(m);
    if (low < bound) {
      uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<unsigned __int128>(Next()) * bound;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Uniform double in [0, 1) with 53 random bits.
  double UniformDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  float UniformFloat() { return static_cast<float>(Next() >> 40) * 0x1.0p-24f; }

  // Standard normal (Box-Muller; one value per call, simple over fast).
  double Normal();

  // An independent stream derived from this generator's seed state and `stream`.
  Prng Fork(uint64_t stream) const {
    uint64_t x = s_[0] ^ (s_[3] + 0x9E3779B97F4A7C15ull * (stream + 1));
    return Prng(SplitMix64(x));
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static uint64_t SplitMix64(uint64_t& x) {
    uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }

  uint64_t s_[4];
};

}  // namespace loom
