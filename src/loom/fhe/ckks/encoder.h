// The CKKS encoder: N/2 complex slots <-> a plaintext polynomial via the canonical
// embedding. Slot j is the evaluation at zeta^(5^j mod 2N), zeta = exp(i pi / N); encoding
// computes the special inverse FFT (O(N log N)), scales by Delta, rounds and reduces into the
// RNS limbs of the requested level, then NTTs. Real inputs are complex inputs with zero
// imaginary part. Fewer than N/2 values are zero-padded.
// Thread-safety: const methods, safe to share.
#pragma once

#include <complex>
#include <span>
#include <vector>

#include "loom/base/status.h"
#include "loom/fhe/ckks/ciphertext.h"
#include "loom/fhe/ckks/context.h"

namespace loom::ckks {

class Encoder {
 public:
  explicit Encoder(ContextPtr ctx) : ctx_(std::move(ctx)) {}

  // OutOfRange when round(scale * coefficient) would not fit below Q_level / 2.
  StatusOr<Plaintext> Encode(std::span<const std::complex<double>> values, double scale,
                             int level) const;
  StatusOr<Plaintext> Encode(std::span<const double> values, double scale, int level) const;
  // A constant polynomial: every slot equals `value` (round(value*scale) in coefficient 0).
  StatusOr<Plaintext> EncodeConstant(double value, double scale, int level) const;

  StatusOr<std::vector<std::complex<double>>> Decode(const Plaintext& pt) const;
  StatusOr<std::vector<double>> DecodeReal(const Plaintext& pt) const;

  // The FFTs on N/2 values, in place (exposed for tests against the O(N^2) evaluation).
  void SlotsToCoeffs(std::vector<std::complex<double>>& v) const;  // special inverse FFT
  void CoeffsToSlots(std::vector<std::complex<double>>& v) const;  // special FFT

  const ContextPtr& context() const { return ctx_; }

 private:
  // 2^64 mod q_i and its Shoup quotient, per limb (PutCoefficient's split of |c|).
  struct Two64 {
    uint64_t w, w_shoup;
  };
  std::vector<Two64> Two64Table(int level) const;
  // Writes round(c) mod q_i into every limb of `pt` at coefficient `index`.
  Status PutCoefficient(Plaintext& pt, size_t index, double c,
                        std::span<const Two64> two64) const;
  ContextPtr ctx_;
};

}  // namespace loom::ckks
