// 64-bit modular arithmetic for NTT-friendly primes q < 2^61: Barrett reduction of 128-bit
// products (precomputed floor(2^128/q)) and Shoup multiplication by a known constant
// (precomputed floor(w * 2^64 / q)). All helpers are branch-free (masks, not ifs), so the
// same code is safe on secret data. Thread-safety: pure functions and immutable values.
#pragma once

#include <cstdint>

namespace loom::ckks {

using u128 = unsigned __int128;

// Largest prime loom accepts: lazy NTT butterflies keep values in [0, 4q), which needs
// 4q < 2^64; Barrett below needs q < 2^62. User primes are at most 60 bits.
inline constexpr int kMaxPrimeBits = 61;

// Returns x - q if x >= q else x, without a branch.
inline uint64_t ReduceOnce(uint64_t x, uint64_t q) {
  uint64_t mask = -static_cast<uint64_t>(x >= q);
  return x - (q & mask);
}

inline uint64_t AddMod(uint64_t a, uint64_t b, uint64_t q) { return ReduceOnce(a + b, q); }
inline uint64_t SubMod(uint64_t a, uint64_t b, uint64_t q) {
  uint64_t d = a - b;
  uint64_t mask = -static_cast<uint64_t>(a < b);
  return d + (q & mask);
}
inline uint64_t NegateMod(uint64_t a, uint64_t q) {
  uint64_t mask = -static_cast<uint64_t>(a != 0);
  return (q - a) & mask;
}

// A prime modulus with its Barrett constant floor(2^128 / q) = ratio_hi * 2^64 + ratio_lo.
struct Modulus {
  uint64_t value = 0;
  uint64_t ratio_hi = 0;
  uint64_t ratio_lo = 0;

  Modulus() = default;
  explicit Modulus(uint64_t q) : value(q) {
    // floor(2^128 / q) computed as floor((2^128 - 1) / q) (q is odd, so they agree).
    u128 all = ~static_cast<u128>(0);
    u128 r = all / q;
    ratio_hi = static_cast<uint64_t>(r >> 64);
    ratio_lo = static_cast<uint64_t>(r);
  }

  // z mod q for any z < 2^127. Barrett with the 128-bit ratio r = floor(2^128/q):
  // z*r/2^128 > z/q - z/2^128 > z/q - 1/2, and dropping the low word of z0*r0 loses < 2^-64,
  // so the estimate is at most 1 below floor(z/q): the remainder is < 2q < 2^62 and one
  // masked subtraction suffices (checked against u128 % in arith_test, up to 2^127).
  uint64_t Reduce128(u128 z) const {
    uint64_t z0 = static_cast<uint64_t>(z);
    uint64_t z1 = static_cast<uint64_t>(z >> 64);
    u128 t = (static_cast<u128>(z0) * ratio_lo) >> 64;
    t += static_cast<u128>(z0) * ratio_hi;
    u128 t2 = static_cast<u128>(z1) * ratio_lo + static_cast<uint64_t>(t);
    uint64_t qhat = z1 * ratio_hi + static_cast<uint64_t>(t >> 64) + static_cast<uint64_t>(t2 >> 64);
    uint64_t r = z0 - qhat * value;
    return ReduceOnce(r, value);
  }
  // x mod q in [0, 2q) for any 64-bit x: Barrett with floor(2^64 / q) = ratio_hi (one high
  // multiply). x * ratio_hi / 2^64 > x/q - 1, so the quotient estimate is at most one short.
  uint64_t ReduceLazy(uint64_t x) const {
    uint64_t qhat = static_cast<uint64_t>((static_cast<u128>(x) * ratio_hi) >> 64);
    return x - qhat * value;
  }
  uint64_t Reduce(uint64_t x) const { return ReduceOnce(ReduceLazy(x), value); }
  uint64_t Mul(uint64_t a, uint64_t b) const { return Reduce128(static_cast<u128>(a) * b); }
  // (a * b + c) mod q.
  uint64_t MulAdd(uint64_t a, uint64_t b, uint64_t c) const {
    return Reduce128(static_cast<u128>(a) * b + c);
  }
};

// Shoup: for a constant w < q, w_shoup = floor(w * 2^64 / q).
inline uint64_t ShoupPrecompute(uint64_t w, uint64_t q) {
  return static_cast<uint64_t>((static_cast<u128>(w) << 64) / q);
}
// x * w mod q in [0, 2q) for any 64-bit x (Harvey 2014, Algorithm 2 without the final step).
inline uint64_t MulShoupLazy(uint64_t x, uint64_t w, uint64_t w_shoup, uint64_t q) {
  uint64_t qhat = static_cast<uint64_t>((static_cast<u128>(x) * w_shoup) >> 64);
  return x * w - qhat * q;
}
inline uint64_t MulShoup(uint64_t x, uint64_t w, uint64_t w_shoup, uint64_t q) {
  return ReduceOnce(MulShoupLazy(x, w, w_shoup, q), q);
}

inline uint64_t PowMod(uint64_t base, uint64_t exp, const Modulus& q) {
  uint64_t result = 1 % q.value;
  base = q.Reduce(base);
  while (exp != 0) {
    if (exp & 1) result = q.Mul(result, base);
    base = q.Mul(base, base);
    exp >>= 1;
  }
  return result;
}
// Inverse modulo a prime (Fermat). a must be nonzero mod q; public data only (branches on exp).
inline uint64_t InvMod(uint64_t a, const Modulus& q) { return PowMod(a, q.value - 2, q); }

// Maps a signed value to [0, q) without branches (|v| < q).
inline uint64_t FromSigned(int64_t v, uint64_t q) {
  uint64_t mask = static_cast<uint64_t>(v >> 63);  // all ones when negative
  return static_cast<uint64_t>(v) + (q & mask);
}

}  // namespace loom::ckks
