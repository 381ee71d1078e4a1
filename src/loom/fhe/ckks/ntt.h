// Negacyclic number-theoretic transform mod one prime q = 1 (mod 2N): a polynomial
// a(X) mod X^N+1 maps to its evaluations at the odd powers of a primitive 2N-th root psi,
// output in bit-reversed order: out[k] = a(psi^(2*bitrev(k)+1)). Forward is Cooley-Tukey,
// inverse Gentleman-Sande, both with Shoup-precomputed twiddles and Harvey's lazy reduction
// (values stay in [0, 4q) inside the forward transform, [0, 2q) inside the inverse).
// There is no AVX2 kernel: AVX2 has no 64x64->128 multiply, and a 60-bit Shoup product from
// vpmuludq costs more than the scalar mulx path (see README "AVX2").
// Thread-safety: NttTables is immutable after Create; transforms touch only their argument.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "loom/base/status.h"
#include "loom/fhe/ckks/modarith.h"

namespace loom::ckks {

class NttTables {
 public:
  static StatusOr<NttTables> Create(uint64_t poly_degree, uint64_t q);

  uint64_t n() const { return n_; }
  const Modulus& modulus() const { return mod_; }
  uint64_t psi() const { return psi_; }

  // In place, input in [0, q) (any value < 4q also works), output in [0, q).
  void Forward(uint64_t* a) const;
  // Output left in [0, 4q) (lazy); callers that need [0, q) use Forward.
  void ForwardLazy(uint64_t* a) const;
  // In place, input in [0, 2q), output in [0, q).
  void Inverse(uint64_t* a) const;

 private:
  uint64_t n_ = 0;
  int log_n_ = 0;
  Modulus mod_;
  uint64_t psi_ = 0;
  // root_[k] = psi^bitrev(k), inv_root_[k] = psi^-bitrev(k) (k in [1, n)), with Shoup twins.
  std::vector<uint64_t> root_, root_shoup_, inv_root_, inv_root_shoup_;
  uint64_t inv_n_ = 0, inv_n_shoup_ = 0;
};

// The slow, obvious reference: c = a * b mod (X^N + 1, q), O(N^2). Tests only.
std::vector<uint64_t> NegacyclicMultiplySchoolbook(std::span<const uint64_t> a,
                                                   std::span<const uint64_t> b, uint64_t q);

// Reverses the low `bits` bits of x.
inline uint64_t BitReverse(uint64_t x, int bits) {
  uint64_t r = 0;
  for (int i = 0; i < bits; ++i, x >>= 1) r = (r << 1) | (x & 1);
  return r;
}

}  // namespace loom::ckks
