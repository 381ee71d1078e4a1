#include "loom/fhe/ckks/context.h"

#include <cmath>
#include <numbers>
#include <set>

#include "loom/base/logging.h"
#include "loom/base/strings.h"
#include "loom/fhe/ckks/primes.h"
#include "loom/fhe/ckks/rns.h"

namespace loom::ckks {

StatusOr<std::shared_ptr<const Context>> Context::Create(const Parameters& params) {
  const uint64_t n = params.poly_degree;
  const bool insecure = params.insecure_skip_security_check_for_testing_only;
  const uint64_t min_n = insecure ? 8 : 1024;
  if (n < min_n || n > 65536 || (n & (n - 1)) != 0)
    return InvalidArgumentError(StrCat("poly_degree N=", n, " must be a power of two in [", min_n,
                                       ", 65536] (HE-standard tables cover 1024..32768)"));
  std::vector<uint64_t> primes = params.primes;
  if (primes.empty()) {
    if (params.prime_bits.empty()) return InvalidArgumentError("no primes and no prime_bits given");
    LOOM_ASSIGN_OR_RETURN(primes, GenerateNttPrimes(n, params.prime_bits));
  }
  if (params.special_primes < 1)
    return InvalidArgumentError(
        StrCat("special_primes=", params.special_primes, " must be >= 1 (key switching needs P)"));
  if (primes.size() < static_cast<size_t>(params.special_primes) + 1)
    return InvalidArgumentError(StrCat("the chain has ", primes.size(), " primes; it needs at least ",
                                       params.special_primes + 1, " (one data prime + ",
                                       params.special_primes, " special)"));
  if (primes.size() > 256) return InvalidArgumentError("more than 256 primes");
  std::set<uint64_t> seen;
  int total_bits = 0;
  for (size_t i = 0; i < primes.size(); ++i) {
    uint64_t q = primes[i];
    if (BitLength(q) > 60 || !IsPrime(q) || (q - 1) % (2 * n) != 0)
      return InvalidArgumentError(
          StrCat("prime #", i, " = ", q, " is not a prime of at most 60 bits with q = 1 mod 2N"));
    if (!seen.insert(q).second) return InvalidArgumentError(StrCat("prime ", q, " appears twice"));
    total_bits += BitLength(q);
  }
  if (insecure) {
    LOOM_LOG(kWarning) << "CKKS security check DISABLED (insecure_skip_security_check_for_testing_"
                          "only): N="
                       << n << ", " << total_bits << " bits. Never use these keys for real data.";
  } else {
    LOOM_RETURN_IF_ERROR(CheckSecurity(n, total_bits, params.security));
  }

  auto ctx = std::shared_ptr<Context>(new Context());
  Context& c = *ctx;
  c.params_ = params;
  c.params_.primes = primes;
  c.n_ = n;
  c.log_n_ = BitLength(n) - 1;
  c.num_special_ = static_cast<size_t>(params.special_primes);
  c.num_data_ = primes.size() - c.num_special_;
  c.primes_ = primes;
  c.total_bits_ = total_bits;
  for (uint64_t q : primes) {
    LOOM_ASSIGN_OR_RETURN(NttTables t, NttTables::Create(n, q));
    c.ntt_.push_back(std::move(t));
  }

  // Hybrid key switching needs P >= every digit's modulus (else the key-switch noise grows by
  // their ratio); allow one bit of slack so SEAL-style chains {60, 40, .., 60} pass.
  const size_t alpha = c.num_special_;
  for (size_t d = 0; d * alpha < c.num_data_; ++d) {
    double digit_bits = 0;
    for (size_t i = d * alpha; i < std::min(c.num_data_, (d + 1) * alpha); ++i)
      digit_bits += std::log2(static_cast<double>(primes[i]));
    if (digit_bits > c.log2_p() + 1.0)
      return InvalidArgumentError(StrCat(
          "special modulus P (", c.log2_p(), " bits) is smaller than key-switching digit ", d,
          " (", digit_bits, " bits): use larger or more special primes"));
  }

  const size_t L = c.num_data_;
  c.inv_q_last_.assign(L, {});
  c.inv_q_last_shoup_.assign(L, {});
  for (size_t l = 1; l < L; ++l) {
    for (size_t i = 0; i < l; ++i) {
      const Modulus& m = c.modulus(i);
      uint64_t v = InvMod(m.Reduce(primes[l]), m);
      c.inv_q_last_[l].push_back(v);
      c.inv_q_last_shoup_[l].push_back(ShoupPrecompute(v, m.value));
    }
  }
  c.phat_inv_.resize(alpha);
  c.phat_mod_.assign(alpha, std::vector<uint64_t>(L));
  for (size_t k = 0; k < alpha; ++k) {
    const Modulus& pk = c.modulus(c.special_index(k));
    uint64_t prod = 1;
    for (size_t j = 0; j < alpha; ++j)
      if (j != k) prod = pk.Mul(prod, pk.Reduce(primes[c.special_index(j)]));
    c.phat_inv_[k] = InvMod(prod, pk);
    for (size_t i = 0; i < L; ++i) {
      const Modulus& m = c.modulus(i);
      uint64_t p = 1;
      for (size_t j = 0; j < alpha; ++j)
        if (j != k) p = m.Mul(p, m.Reduce(primes[c.special_index(j)]));
      c.phat_mod_[k][i] = p;
    }
  }
  c.inv_p_mod_.resize(L);
  for (size_t i = 0; i < L; ++i) {
    const Modulus& m = c.modulus(i);
    uint64_t p = 1;
    for (size_t k = 0; k < alpha; ++k) p = m.Mul(p, m.Reduce(primes[c.special_index(k)]));
    c.inv_p_mod_[i] = InvMod(p, m);
  }
  c.crt_q_.resize(L);
  c.crt_qhat_.resize(L);
  c.crt_qhat_inv_.resize(L);
  for (size_t l = 0; l < L; ++l) {
    std::span<const uint64_t> chain(primes.data(), l + 1);
    c.crt_q_[l] = BigProduct(chain);
    for (size_t i = 0; i <= l; ++i) {
      std::vector<uint64_t> others;
      for (size_t j = 0; j <= l; ++j)
        if (j != i) others.push_back(primes[j]);
      BigUint qhat = BigProduct(others);
      const Modulus& m = c.modulus(i);
      c.crt_qhat_inv_[l].push_back(InvMod(BigModWord(qhat, m.value), m));
      c.crt_qhat_[l].push_back(std::move(qhat));
    }
  }

  const uint64_t m = 2 * n;
  c.roots_.resize(m + 1);
  for (uint64_t k = 0; k <= m; ++k) {
    double angle = 2.0 * std::numbers::pi * static_cast<double>(k) / static_cast<double>(m);
    c.roots_[k] = {std::cos(angle), std::sin(angle)};
  }
  c.rot_group_.resize(n / 2);
  uint64_t g = 1;
  for (uint64_t j = 0; j < n / 2; ++j) {
    c.rot_group_[j] = g;
    g = g * 5 % m;
  }

  // FNV-1a over N, alpha and the primes.
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](uint64_t v) {
    for (int b = 0; b < 8; ++b) {
      h ^= (v >> (8 * b)) & 0xff;
      h *= 1099511628211ull;
    }
  };
  mix(n);
  mix(alpha);
  for (uint64_t q : primes) mix(q);
  c.fingerprint_ = h;
  return std::shared_ptr<const Context>(std::move(ctx));
}

double Context::log2_q(int level) const {
  double s = 0;
  for (int i = 0; i <= level; ++i) s += std::log2(static_cast<double>(primes_[i]));
  return s;
}

double Context::log2_p() const {
  double s = 0;
  for (size_t k = 0; k < num_special_; ++k)
    s += std::log2(static_cast<double>(primes_[num_data_ + k]));
  return s;
}

uint64_t Context::GaloisElementForStep(int64_t step) const {
  const uint64_t m = 2 * n_;
  const int64_t slots = static_cast<int64_t>(n_ / 2);
  int64_t k = ((step % slots) + slots) % slots;  // right by s == left by slots - s
  uint64_t g = 1;
  for (int64_t i = 0; i < k; ++i) g = g * 5 % m;
  return g;
}

std::string Context::Describe() const {
  std::string s = StrCat("N=", n_, " primes ");
  for (size_t i = 0; i < num_data_; ++i) s += StrCat(i ? "," : "", BitLength(primes_[i]));
  s += " + special ";
  for (size_t k = 0; k < num_special_; ++k)
    s += StrCat(k ? "," : "", BitLength(primes_[num_data_ + k]));
  return StrCat(s, " (", total_bits_, " bits)");
}

}  // namespace loom::ckks
