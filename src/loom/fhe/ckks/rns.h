// Residue number system helpers. (1) CRT composition of one coefficient's residues into a
// big integer and a centered double (decoding). (2) Fast base conversion between prime sets
// (Bajard et al. / Halevi-Polyakov-Shoup "approximate" conversion): for x given by residues
// x_i mod s_i, returns sum_i [x_i (S/s_i)^-1]_{s_i} (S/s_i) mod t, which equals x + u*S for
// a small 0 <= u < #src. Key switching (ModUp/ModDown) tolerates that u (it is absorbed into
// the noise, and ModDown subtracts it exactly because it multiplies P).
// Thread-safety: BaseConverter is immutable after construction.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "loom/fhe/ckks/context.h"
#include "loom/fhe/ckks/modarith.h"

namespace loom::ckks {

// x += a * w (x is extended as needed).
void BigMulAddWord(BigUint& x, const BigUint& a, uint64_t w);
// x mod w.
uint64_t BigModWord(const BigUint& x, uint64_t w);
// -1, 0, 1.
int BigCompare(const BigUint& a, const BigUint& b);
// a -= b (requires a >= b).
void BigSub(BigUint& a, const BigUint& b);
double BigToDouble(const BigUint& a);
// Product of the given primes.
BigUint BigProduct(std::span<const uint64_t> primes);

// The value in (-Q_l/2, Q_l/2] whose residues mod q_0..q_level are `residues`, as a double.
double CrtComposeCentered(const Context& ctx, int level, std::span<const uint64_t> residues);
// Working storage for the overload below, reused across coefficients so that decoding a
// polynomial allocates once instead of once per coefficient.
struct CrtScratch {
  BigUint x, y;
};
double CrtComposeCentered(const Context& ctx, int level, std::span<const uint64_t> residues,
                          CrtScratch& scratch);

class BaseConverter {
 public:
  BaseConverter(std::span<const Modulus> src, std::span<const Modulus> dst);
  // in: src.size() rows of n coefficients (coefficient form, values in [0, s_i));
  // out: dst.size() rows of n values in [0, t).
  void Convert(const uint64_t* const* in, uint64_t* const* out, size_t n) const;
  // Only destination `t` (one row of n), lazily reduced: values in [0, 2t) (the NTT that
  // follows in key switching accepts that). Inputs may be any value < 2^64.
  void ConvertTo(const uint64_t* const* in, size_t t, uint64_t* out, size_t n) const;

 private:
  std::vector<Modulus> src_, dst_;
  std::vector<uint64_t> shat_inv_, shat_inv_shoup_;  // (S/s_i)^-1 mod s_i
  std::vector<uint64_t> shat_mod_;                    // [j * src + i] = (S/s_i) mod t_j
};

}  // namespace loom::ckks
