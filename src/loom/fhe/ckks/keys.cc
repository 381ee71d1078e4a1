#include "loom/fhe/ckks/keys.h"

#include <sodium.h>

#include <algorithm>
#include <numeric>

#include "loom/base/strings.h"
#include "loom/fhe/ckks/modarith.h"
#include "loom/fhe/ckks/ntt.h"
#include "loom/fhe/ckks/sampler.h"

namespace loom::ckks {
namespace {

std::vector<size_t> Iota(size_t count, size_t start = 0) {
  std::vector<size_t> v(count);
  std::iota(v.begin(), v.end(), start);
  return v;
}

// A fresh RLWE sample over the chain's first `primes` primes: a uniform, e from the error
// distribution, b = e - a*s, all in NTT form. a and b hold primes * n words each; s is the
// secret in NTT form. Public keys and key-switching keys both start from this.
void SampleRlwe(const Context& c, Sampler& sampler, size_t primes, const uint64_t* s,
                uint64_t* a, uint64_t* b) {
  const size_t n = c.n();
  auto index = Iota(primes);
  sampler.Uniform(c, index, a);
  sampler.Error(c, index, b);
  for (size_t i = 0; i < primes; ++i) {
    const Modulus& m = c.modulus(i);
    uint64_t* bi = b + i * n;
    const uint64_t* ai = a + i * n;
    const uint64_t* si = s + i * n;
    c.ntt(i).Forward(bi);
    for (size_t k = 0; k < n; ++k) bi[k] = SubMod(bi[k], m.Mul(ai[k], si[k]), m.value);
  }
}

}  // namespace

SecretKey::~SecretKey() {
  if (!data.empty()) sodium_memzero(data.data(), data.size() * sizeof(uint64_t));
}

KeyGenerator::KeyGenerator(ContextPtr ctx) : ctx_(std::move(ctx)) {
  const Context& c = *ctx_;
  const size_t n = c.n(), np = c.num_primes();
  Sampler sampler;
  sk_.fingerprint = c.fingerprint();
  sk_.data.resize(np * n);
  auto all = Iota(np);
  sampler.Ternary(c, all, sk_.data.data());
  for (size_t i = 0; i < np; ++i) c.ntt(i).Forward(sk_.data.data() + i * n);
}

PublicKey KeyGenerator::CreatePublicKey() const {
  const Context& c = *ctx_;
  const size_t n = c.n(), l1 = c.num_data_primes();
  Sampler sampler;
  PublicKey pk;
  pk.fingerprint = c.fingerprint();
  pk.data.resize(2 * l1 * n);
  uint64_t* b = pk.data.data();
  uint64_t* a = b + l1 * n;
  SampleRlwe(c, sampler, l1, sk_.data.data(), a, b);
  return pk;
}

KSwitchKey KeyGenerator::CreateSwitchKey(const std::vector<uint64_t>& from) const {
  const Context& c = *ctx_;
  const size_t n = c.n(), np = c.num_primes(), l1 = c.num_data_primes();
  const size_t alpha = c.num_special_primes();
  const int digits = static_cast<int>((l1 + alpha - 1) / alpha);
  Sampler sampler;
  KSwitchKey key;
  key.fingerprint = c.fingerprint();
  key.digits = digits;
  key.data.resize(static_cast<size_t>(digits) * 2 * np * n);
  for (int j = 0; j < digits; ++j) {
    uint64_t* b = key.data.data() + (static_cast<size_t>(j) * 2) * np * n;
    uint64_t* a = b + np * n;
    SampleRlwe(c, sampler, np, sk_.data.data(), a, b);
    // P * s' lands only on this digit's data primes (the CRT idempotent of digit j).
    const size_t first = static_cast<size_t>(j) * alpha;
    for (size_t i = first; i < std::min(l1, first + alpha); ++i) {
      const Modulus& m = c.modulus(i);
      uint64_t p_mod = 1;
      for (size_t k = 0; k < alpha; ++k) p_mod = m.Mul(p_mod, m.Reduce(c.primes()[l1 + k]));
      uint64_t* bi = b + i * n;
      const uint64_t* fi = from.data() + i * n;
      for (size_t k = 0; k < n; ++k) bi[k] = AddMod(bi[k], m.Mul(p_mod, fi[k]), m.value);
    }
  }
  return key;
}

RelinKey KeyGenerator::CreateRelinKey() const {
  const Context& c = *ctx_;
  const size_t n = c.n(), np = c.num_primes();
  std::vector<uint64_t> s2(np * n);
  for (size_t i = 0; i < np; ++i) {
    const Modulus& m = c.modulus(i);
    for (size_t k = 0; k < n; ++k) s2[i * n + k] = m.Mul(sk_.data[i * n + k], sk_.data[i * n + k]);
  }
  RelinKey rk{CreateSwitchKey(s2)};
  sodium_memzero(s2.data(), s2.size() * sizeof(uint64_t));
  return rk;
}

StatusOr<GaloisKeys> KeyGenerator::CreateGaloisKeys(std::span<const int64_t> steps,
                                                    bool conjugation) const {
  const Context& c = *ctx_;
  const size_t n = c.n(), np = c.num_primes();
  const int64_t slots = static_cast<int64_t>(c.slots());
  std::vector<uint64_t> elements;
  for (int64_t s : steps) {
    if (s == 0 || s >= slots || s <= -slots)
      return InvalidArgumentError(
          StrCat("rotation step ", s, " must be nonzero with |step| < N/2 = ", slots));
    elements.push_back(c.GaloisElementForStep(s));
  }
  if (conjugation) elements.push_back(c.ConjugationElement());
  GaloisKeys gk;
  gk.fingerprint = c.fingerprint();
  std::vector<uint64_t> rotated(np * n);
  for (uint64_t g : elements) {
    if (gk.Has(g)) continue;
    for (size_t i = 0; i < np; ++i)
      ApplyGaloisNtt(sk_.data.data() + i * n, g, c.log_n(), rotated.data() + i * n);
    gk.keys.emplace(g, CreateSwitchKey(rotated));
  }
  sodium_memzero(rotated.data(), rotated.size() * sizeof(uint64_t));
  return gk;
}

// NTT slot k holds a(psi^(2 br(k) + 1)); sigma_g(a) there is a(psi^(g (2 br(k) + 1))).
std::vector<uint32_t> GaloisPermutation(uint64_t galois_element, int log_n) {
  const uint64_t n = uint64_t{1} << log_n, mask = 2 * n - 1;
  std::vector<uint32_t> perm(n);
  for (uint64_t k = 0; k < n; ++k) {
    uint64_t e = 2 * BitReverse(k, log_n) + 1;
    uint64_t e2 = (e * galois_element) & mask;
    perm[k] = static_cast<uint32_t>(BitReverse((e2 - 1) >> 1, log_n));
  }
  return perm;
}

void ApplyGaloisNtt(const uint64_t* in, uint64_t galois_element, int log_n, uint64_t* out) {
  auto perm = GaloisPermutation(galois_element, log_n);
  for (size_t k = 0; k < perm.size(); ++k) out[k] = in[perm[k]];
}

void ApplyGaloisCoeff(const uint64_t* in, uint64_t galois_element, uint64_t n, uint64_t q,
                      uint64_t* out) {
  const uint64_t mask = 2 * n - 1;
  for (uint64_t i = 0; i < n; ++i) {
    uint64_t j = (i * galois_element) & mask;
    if (j < n) out[j] = in[i];
    else out[j - n] = NegateMod(in[i], q);
  }
}

}  // namespace loom::ckks
