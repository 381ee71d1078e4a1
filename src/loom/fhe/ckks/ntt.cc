#include "loom/fhe/ckks/ntt.h"

#include "loom/base/strings.h"
#include "loom/fhe/ckks/primes.h"

namespace loom::ckks {

StatusOr<NttTables> NttTables::Create(uint64_t poly_degree, uint64_t q) {
  if (poly_degree < 2 || (poly_degree & (poly_degree - 1)) != 0)
    return InvalidArgumentError(StrCat("NTT size ", poly_degree, " is not a power of two >= 2"));
  if (BitLength(q) > kMaxPrimeBits || !IsPrime(q))
    return InvalidArgumentError(StrCat("NTT modulus ", q, " is not a prime below 2^61"));
  NttTables t;
  t.n_ = poly_degree;
  t.log_n_ = BitLength(poly_degree) - 1;
  t.mod_ = Modulus(q);
  LOOM_ASSIGN_OR_RETURN(t.psi_, MinimalPrimitiveRoot(2 * poly_degree, q));
  const uint64_t psi_inv = InvMod(t.psi_, t.mod_);
  t.root_.resize(poly_degree);
  t.inv_root_.resize(poly_degree);
  uint64_t pw = 1, ipw = 1;
  for (uint64_t i = 0; i < poly_degree; ++i) {
    uint64_t k = BitReverse(i, t.log_n_);
    t.root_[k] = {pw, ShoupPrecompute(pw, q)};
    t.inv_root_[k] = {ipw, ShoupPrecompute(ipw, q)};
    pw = t.mod_.Mul(pw, t.psi_);
    ipw = t.mod_.Mul(ipw, psi_inv);
  }
  const uint64_t inv_n = InvMod(poly_degree % q, t.mod_);
  t.inv_n_ = {inv_n, ShoupPrecompute(inv_n, q)};
  const uint64_t inv_n_root1 = t.mod_.Mul(inv_n, t.inv_root_[1].w);
  t.inv_n_root1_ = {inv_n_root1, ShoupPrecompute(inv_n_root1, q)};
  return t;
}

template <bool kReduce>
void NttTables::ForwardImpl(uint64_t* a) const {
  const uint64_t q = mod_.value, two_q = 2 * q;
  const size_t half = n_ >> 1;
  // Every layer but the last: butterflies of span t >= 2, values in [0, 4q).
  size_t t = half;
  for (size_t m = 1; m < half; m <<= 1, t >>= 1) {
    for (size_t i = 0; i < m; ++i) {
      const Root r = root_[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (size_t j = 0; j < t; ++j) {
        uint64_t u = ReduceOnce(x[j], two_q);             // [0, 2q)
        uint64_t v = MulShoupLazy(y[j], r.w, r.w_shoup, q);  // [0, 2q)
        x[j] = u + v;                                     // [0, 4q)
        y[j] = u - v + two_q;                             // (0, 4q)
      }
    }
  }
  // Last layer (span 1), with the optional reduction to [0, q) folded in.
  const Root* roots = root_.data() + half;
  for (size_t i = 0; i < half; ++i) {
    const Root r = roots[i];
    uint64_t u = ReduceOnce(a[2 * i], two_q);
    uint64_t v = MulShoupLazy(a[2 * i + 1], r.w, r.w_shoup, q);
    uint64_t x = u + v, y = u - v + two_q;
    if constexpr (kReduce) {
      x = ReduceOnce(ReduceOnce(x, two_q), q);
      y = ReduceOnce(ReduceOnce(y, two_q), q);
    }
    a[2 * i] = x;
    a[2 * i + 1] = y;
  }
}

void NttTables::ForwardLazy(uint64_t* a) const { ForwardImpl<false>(a); }
void NttTables::Forward(uint64_t* a) const { ForwardImpl<true>(a); }

template <bool kReduce>
void NttTables::InverseImpl(uint64_t* a) const {
  const uint64_t q = mod_.value, two_q = 2 * q;
  const size_t half = n_ >> 1;
  size_t t = 1;
  for (size_t m = half; m > 1; m >>= 1, t <<= 1) {
    for (size_t i = 0; i < m; ++i) {
      const Root r = inv_root_[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (size_t j = 0; j < t; ++j) {
        uint64_t u = x[j], v = y[j];                          // both in [0, 2q)
        x[j] = ReduceOnce(u + v, two_q);                      // [0, 2q)
        y[j] = MulShoupLazy(u - v + two_q, r.w, r.w_shoup, q);  // [0, 2q)
      }
    }
  }
  // Last layer (span n/2) multiplies by 1/n on the way: x -> (u + v)/n, y -> (u - v) w/n.
  uint64_t* x = a;
  uint64_t* y = a + half;
  for (size_t j = 0; j < half; ++j) {
    uint64_t u = x[j], v = y[j];
    uint64_t s = MulShoupLazy(u + v, inv_n_.w, inv_n_.w_shoup, q);
    uint64_t d = MulShoupLazy(u - v + two_q, inv_n_root1_.w, inv_n_root1_.w_shoup, q);
    if constexpr (kReduce) {
      s = ReduceOnce(s, q);
      d = ReduceOnce(d, q);
    }
    x[j] = s;
    y[j] = d;
  }
}

void NttTables::Inverse(uint64_t* a) const { InverseImpl<true>(a); }
void NttTables::InverseLazy(uint64_t* a) const { InverseImpl<false>(a); }

std::vector<uint64_t> NegacyclicMultiplySchoolbook(std::span<const uint64_t> a,
                                                   std::span<const uint64_t> b, uint64_t q) {
  const size_t n = a.size();
  Modulus mod(q);
  std::vector<uint64_t> c(n, 0);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n; ++j) {
      uint64_t p = mod.Mul(a[i], b[j]);
      size_t k = i + j;
      if (k < n) c[k] = AddMod(c[k], p, q);
      else c[k - n] = SubMod(c[k - n], p, q);  // X^N = -1
    }
  }
  return c;
}

}  // namespace loom::ckks
