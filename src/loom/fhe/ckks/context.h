// CKKS parameters and the immutable Context built from them. Context::Create is the one place
// parameters are validated (HE-standard security, prime shape, key-switching modulus); every
// later operation trusts the tables it holds. The Context owns, per prime, the NTT tables and,
// per level, the rescale / ModDown / CRT constants; it is shared as shared_ptr<const Context>.
// Thread-safety: immutable after Create; share freely.
#pragma once

#include <complex>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/fhe/ckks/modarith.h"
#include "loom/fhe/ckks/ntt.h"
#include "loom/fhe/ckks/security.h"

namespace loom::ckks {

struct Parameters {
  uint64_t poly_degree = 8192;
  // Bit sizes of the whole chain, data primes first, then the `special_primes` key-switching
  // primes (SEAL's convention: {60, 40, 40, 60} is three data primes and one special prime).
  std::vector<int> prime_bits;
  // Explicit primes (deserialization, tests); when non-empty they replace prime_bits.
  std::vector<uint64_t> primes;
  // alpha: the number of special primes = primes per key-switching digit (hybrid switching).
  int special_primes = 1;
  SecurityLevel security = SecurityLevel::kClassical128;
  // Skips the HE-standard check (and allows N below 1024). Tests of small rings ONLY; Create
  // logs a warning every time it is used. Never set from user input.
  bool insecure_skip_security_check_for_testing_only = false;
};

// Small fixed-width unsigned big integers (little-endian 64-bit words), enough for CRT.
using BigUint = std::vector<uint64_t>;

class Context {
 public:
  static StatusOr<std::shared_ptr<const Context>> Create(const Parameters& params);

  const Parameters& parameters() const { return params_; }
  uint64_t n() const { return n_; }
  int log_n() const { return log_n_; }
  size_t slots() const { return n_ / 2; }
  int max_level() const { return static_cast<int>(num_data_) - 1; }
  size_t num_data_primes() const { return num_data_; }
  size_t num_special_primes() const { return num_special_; }
  size_t num_primes() const { return primes_.size(); }
  // Index of the k-th special prime in primes().
  size_t special_index(size_t k) const { return num_data_ + k; }
  std::span<const uint64_t> primes() const { return primes_; }
  const Modulus& modulus(size_t i) const { return ntt_[i].modulus(); }
  const NttTables& ntt(size_t i) const { return ntt_[i]; }
  // A hash of (N, primes, special count); stamped on every key and ciphertext.
  uint64_t fingerprint() const { return fingerprint_; }
  int total_bits() const { return total_bits_; }     // sum of prime bit lengths (incl. P)
  double log2_q(int level) const;                     // log2 of q_0 * ... * q_level
  double log2_p() const;

  // Rescale at level l: q_l^-1 mod q_i (and Shoup) for i < l.
  uint64_t inv_q_last(int level, size_t i) const { return inv_q_last_[level][i]; }
  uint64_t inv_q_last_shoup(int level, size_t i) const { return inv_q_last_shoup_[level][i]; }
  // ModDown: P^-1 mod q_i; base conversion P -> q_i: (P/p_k)^-1 mod p_k, (P/p_k) mod q_i.
  uint64_t inv_p_mod(size_t i) const { return inv_p_mod_[i]; }
  uint64_t phat_inv(size_t k) const { return phat_inv_[k]; }
  uint64_t phat_mod(size_t k, size_t i) const { return phat_mod_[k][i]; }
  // Decoding CRT at a level: Q_l, Q_l/q_i and (Q_l/q_i)^-1 mod q_i.
  const BigUint& crt_q(int level) const { return crt_q_[level]; }
  const BigUint& crt_qhat(int level, size_t i) const { return crt_qhat_[level][i]; }
  uint64_t crt_qhat_inv(int level, size_t i) const { return crt_qhat_inv_[level][i]; }

  // Encoder tables: zeta^k = exp(2 pi i k / 2N) for k in [0, 2N], and 5^j mod 2N, j < N/2.
  const std::vector<std::complex<double>>& roots() const { return roots_; }
  const std::vector<uint64_t>& rot_group() const { return rot_group_; }

  // Galois elements: rotate slots left by `step` (negative = right), and conjugation.
  uint64_t GaloisElementForStep(int64_t step) const;
  uint64_t ConjugationElement() const { return 2 * n_ - 1; }

  // Human-readable chain, e.g. "N=8192 primes 60,40,40 + special 60 (200 bits)".
  std::string Describe() const;

 private:
  Context() = default;
  Parameters params_;
  uint64_t n_ = 0;
  int log_n_ = 0;
  size_t num_data_ = 0, num_special_ = 0;
  std::vector<uint64_t> primes_;
  std::vector<NttTables> ntt_;
  uint64_t fingerprint_ = 0;
  int total_bits_ = 0;
  std::vector<std::vector<uint64_t>> inv_q_last_, inv_q_last_shoup_;
  std::vector<uint64_t> inv_p_mod_, phat_inv_;
  std::vector<std::vector<uint64_t>> phat_mod_;
  std::vector<BigUint> crt_q_;
  std::vector<std::vector<BigUint>> crt_qhat_;
  std::vector<std::vector<uint64_t>> crt_qhat_inv_;
  std::vector<std::complex<double>> roots_;
  std::vector<uint64_t> rot_group_;
};

using ContextPtr = std::shared_ptr<const Context>;

}  // namespace loom::ckks
