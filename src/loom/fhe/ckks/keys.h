// Key material and key generation. All keys are stored in NTT form and stamped with the
// context fingerprint. Key-switching keys are hybrid (Han-Ki): for digit j of alpha data primes,
//   b_j = -a_j s + e_j + P * [i in digit j] * s'   (mod every prime of Q_L * P),  a_j uniform,
// so a key holds ceil((L+1)/alpha) * 2 * (L+1+alpha) * N words and works at every level.
// Galois keys are made only for the requested rotation steps (plus conjugation on request).
// Randomness: Sampler (OS CSPRNG + ChaCha20); no secret-dependent branches.
// Thread-safety: keys are immutable values; KeyGenerator is single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "loom/base/status.h"
#include "loom/fhe/ckks/context.h"

namespace loom::ckks {

// Ternary s in NTT form over every prime (data and special): data[prime * N + i].
struct SecretKey {
  uint64_t fingerprint = 0;
  std::vector<uint64_t> data;
  ~SecretKey();  // wipes the key material
};

// (b, a) = (-a s + e, a) over the data primes: data[(component * L1 + prime) * N + i].
struct PublicKey {
  uint64_t fingerprint = 0;
  std::vector<uint64_t> data;
};

// data[((digit * 2 + component) * num_primes + prime) * N + i], num_primes = all primes.
struct KSwitchKey {
  uint64_t fingerprint = 0;
  int digits = 0;
  std::vector<uint64_t> data;
  const uint64_t* row(int digit, int component, size_t prime, size_t num_primes, size_t n) const {
    return data.data() + ((static_cast<size_t>(digit) * 2 + component) * num_primes + prime) * n;
  }
};

struct RelinKey {
  KSwitchKey key;  // switches s^2 -> s
};

struct GaloisKeys {
  uint64_t fingerprint = 0;
  std::map<uint64_t, KSwitchKey> keys;  // Galois element -> key switching sigma(s) -> s
  bool Has(uint64_t galois_element) const { return keys.count(galois_element) != 0; }
};

class KeyGenerator {
 public:
  // Draws a fresh ternary secret from the OS CSPRNG.
  explicit KeyGenerator(ContextPtr ctx);

  const SecretKey& secret_key() const { return sk_; }
  PublicKey CreatePublicKey() const;
  RelinKey CreateRelinKey() const;
  // Keys for rotating left by each step (negative = right), plus conjugation if asked.
  // InvalidArgument for a step of 0 mod N/2 or |step| >= N/2.
  StatusOr<GaloisKeys> CreateGaloisKeys(std::span<const int64_t> steps, bool conjugation) const;

  // Key switching `from` (NTT form over all primes, same layout as SecretKey::data) -> s.
  KSwitchKey CreateSwitchKey(const std::vector<uint64_t>& from) const;

 private:
  ContextPtr ctx_;
  SecretKey sk_;
};

// sigma_g on NTT-form rows is a permutation: out[k] = in[perm[k]] (bit-reversed order).
std::vector<uint32_t> GaloisPermutation(uint64_t galois_element, int log_n);
void ApplyGaloisNtt(const uint64_t* in, uint64_t galois_element, int log_n, uint64_t* out);
// The same automorphism on a coefficient-form row (X^i -> X^(i g) mod X^N+1): the reference.
void ApplyGaloisCoeff(const uint64_t* in, uint64_t galois_element, uint64_t n, uint64_t q,
                      uint64_t* out);

}  // namespace loom::ckks
