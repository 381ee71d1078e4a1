// Negacyclic number-theoretic transform mod one prime q = 1 (mod 2N): a polynomial
// a(X) mod X^N+1 maps to its evaluations at the odd powers of a primitive 2N-th root psi,
// output in bit-reversed order: out[k] = a(psi^(2*bitrev(k)+1)). Forward is Cooley-Tukey,
// inverse Gentleman-Sande, both with Shoup-precomputed twiddles and Harvey's lazy reduction
// (values stay in [0, 4q) inside the forward transform, [0, 2q) inside the inverse). The
// final reduction (forward) and the 1/n scaling (inverse) are folded into the last layer, so
// neither costs an extra pass over the data.
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
  // As Inverse, output left in [0, 2q) (for callers that reduce anyway).
  void InverseLazy(uint64_t* a) const;

 private:
  uint64_t n_ = 0;
  int log_n_ = 0;
  Modulus mod_;
  uint64_t psi_ = 0;
  // A twiddle next to its Shoup quotient: one cache line serves four butterfly groups.
  struct Root {
    uint64_t w, w_shoup;
  };
  template <bool kReduce>
  void ForwardImpl(uint64_t* a) const;
  template <bool kReduce>
  void InverseImpl(uint64_t* a) const;

  // root_[k] = psi^bitrev(k), inv_root_[k] = psi^-bitrev(k) (k in [1, n)).
  std::vector<Root> root_, inv_root_;
  // n^-1, and n^-1 * inv_root_[1]: the inverse's last layer applies the 1/n scaling.
  Root inv_n_{}, inv_n_root1_{};
};

// The slow, obvious reference: c = a * b mod (X^N + 1, q), O(N^2). Tests only.
std::vector<uint64_t> NegacyclicMultiplySchoolbook(std::span<const uint64_t> a,
                                                   std::span<const uint64_t> b, uint64_t q);

// Reverses the low `bits` bits of x.
inline uint64_t BitReverse(uint64_t x, int bits) {
  if (bits <= 0) return 0;
  x = ((x >> 1) & 0x5555555555555555ull) | ((x & 0x5555555555555555ull) << 1);
  x = ((x >> 2) & 0x3333333333333333ull) | ((x & 0x3333333333333333ull) << 2);
  x = ((x >> 4) & 0x0F0F0F0F0F0F0F0Full) | ((x & 0x0F0F0F0F0F0F0F0Full) << 4);
  return __builtin_bswap64(x) >> (64 - bits);
}

}  // namespace loom::ckks
