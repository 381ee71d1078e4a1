// Homomorphic operations on CKKS ciphertexts. Every operation validates its operands first
// (context fingerprint, shape, matching levels, matching scales, scale headroom, key
// presence) and returns a Status naming the operation and the operands' levels/scales;
// after that the kernels trust the data.
//
// Scale rules (exact doubles): add/sub need equal scales (relative difference <= 1e-9);
// multiply multiplies them and refuses a product whose log2 reaches log2(Q_level) - 1;
// rescale divides by the dropped prime q_level; mod-switch keeps the scale.
// Thread-safety: const methods on immutable state; concurrent calls are safe.
#pragma once

#include <cstdint>

#include "loom/base/status.h"
#include "loom/fhe/ckks/ciphertext.h"
#include "loom/fhe/ckks/context.h"
#include "loom/fhe/ckks/keys.h"

namespace loom::ckks {

class Evaluator {
 public:
  explicit Evaluator(ContextPtr ctx) : ctx_(std::move(ctx)) {}
  const ContextPtr& context() const { return ctx_; }

  StatusOr<Ciphertext> Add(const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> Sub(const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> Negate(const Ciphertext& a) const;
  StatusOr<Ciphertext> AddPlain(const Ciphertext& a, const Plaintext& p) const;
  StatusOr<Ciphertext> SubPlain(const Ciphertext& a, const Plaintext& p) const;
  // Adds `value` to every slot (encoded at the ciphertext's scale).
  StatusOr<Ciphertext> AddScalar(const Ciphertext& a, double value) const;

  // Tensor product: sizes s and t give size s + t - 1 (at most 3). Relinearize afterwards.
  StatusOr<Ciphertext> Multiply(const Ciphertext& a, const Ciphertext& b) const;
  StatusOr<Ciphertext> Square(const Ciphertext& a) const { return Multiply(a, a); }
  StatusOr<Ciphertext> MultiplyPlain(const Ciphertext& a, const Plaintext& p) const;
  // Multiplies every slot by `value`, encoded as round(value * scale); the result scale is
  // a.scale * scale.
  StatusOr<Ciphertext> MultiplyScalar(const Ciphertext& a, double value, double scale) const;

  StatusOr<Ciphertext> Relinearize(const Ciphertext& a, const RelinKey& rk) const;
  // Divides by q_level (rounding) and drops it.
  StatusOr<Ciphertext> Rescale(const Ciphertext& a) const;
  // Drops primes down to `level` (scale unchanged).
  StatusOr<Ciphertext> ModSwitchTo(const Ciphertext& a, int level) const;
  StatusOr<Plaintext> ModSwitchTo(const Plaintext& p, int level) const;

  // Cyclic rotation of the N/2 slots; needs the Galois key of that exact step.
  StatusOr<Ciphertext> RotateLeft(const Ciphertext& a, int64_t steps, const GaloisKeys& gk) const;
  StatusOr<Ciphertext> RotateRight(const Ciphertext& a, int64_t steps, const GaloisKeys& gk) const {
    return RotateLeft(a, -steps, gk);
  }
  StatusOr<Ciphertext> Conjugate(const Ciphertext& a, const GaloisKeys& gk) const;
  // Applies sigma_g and switches back to s (the building block of rotate/conjugate).
  StatusOr<Ciphertext> ApplyGalois(const Ciphertext& a, uint64_t galois_element,
                                   const GaloisKeys& gk) const;

 private:
  Status CheckPair(const Ciphertext& a, const Ciphertext& b, const char* op, bool same_scale) const;
  Status CheckProductScale(double scale, int level, const char* op) const;
  // round(value * scale) reduced into each prime 0..level.
  StatusOr<std::vector<uint64_t>> ScalarResidues(double value, double scale, int level) const;
  ContextPtr ctx_;
};

}  // namespace loom::ckks
