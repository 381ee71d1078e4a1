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
  t.root_shoup_.resize(poly_degree);
  t.inv_root_.resize(poly_degree);
  t.inv_root_shoup_.resize(poly_degree);
  uint64_t pw = 1, ipw = 1;
  for (uint64_t i = 0; i < poly_degree; ++i) {
    uint64_t k = BitReverse(i, t.log_n_);
    t.root_[k] = pw;
    t.inv_root_[k] = ipw;
    pw = t.mod_.Mul(pw, t.psi_);
    ipw = t.mod_.Mul(ipw, psi_inv);
  }
  for (uint64_t k = 0; k < poly_degree; ++k) {
    t.root_shoup_[k] = ShoupPrecompute(t.root_[k], q);
    t.inv_root_shoup_[k] = ShoupPrecompute(t.inv_root_[k], q);
  }
  t.inv_n_ = InvMod(poly_degree % q, t.mod_);
  t.inv_n_shoup_ = ShoupPrecompute(t.inv_n_, q);
  return t;
}

void NttTables::ForwardLazy(uint64_t* a) const {
  const uint64_t q = mod_.value, two_q = 2 * q;
  uint64_t t = n_;
  for (uint64_t m = 1; m < n_; m <<= 1) {
    t >>= 1;
    for (uint64_t i = 0; i < m; ++i) {
      const uint64_t w = root_[m + i], ws = root_shoup_[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (uint64_t j = 0; j < t; ++j) {
        uint64_t u = ReduceOnce(x[j], two_q);        // [0, 2q)
        uint64_t v = MulShoupLazy(y[j], w, ws, q);   // [0, 2q)
        x[j] = u + v;                                // [0, 4q)
        y[j] = u - v + two_q;                        // (0, 4q)
      }
    }
  }
}

void NttTables::Forward(uint64_t* a) const {
  ForwardLazy(a);
  const uint64_t q = mod_.value, two_q = 2 * q;
  for (uint64_t i = 0; i < n_; ++i) a[i] = ReduceOnce(ReduceOnce(a[i], two_q), q);
}

void NttTables::Inverse(uint64_t* a) const {
  const uint64_t q = mod_.value, two_q = 2 * q;
  uint64_t t = 1;
  for (uint64_t m = n_ >> 1; m >= 1; m >>= 1) {
    for (uint64_t i = 0; i < m; ++i) {
      const uint64_t w = inv_root_[m + i], ws = inv_root_shoup_[m + i];
      uint64_t* x = a + 2 * i * t;
      uint64_t* y = x + t;
      for (uint64_t j = 0; j < t; ++j) {
        uint64_t u = x[j], v = y[j];                  // both in [0, 2q)
        x[j] = ReduceOnce(u + v, two_q);              // [0, 2q)
        y[j] = MulShoupLazy(u - v + two_q, w, ws, q);  // [0, 2q)
      }
    }
    t <<= 1;
  }
  for (uint64_t i = 0; i < n_; ++i) a[i] = MulShoup(a[i], inv_n_, inv_n_shoup_, q);
}

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
