#include "loom/fhe/ckks/rns.h"

#include <cmath>

namespace loom::ckks {

void BigMulAddWord(BigUint& x, const BigUint& a, uint64_t w) {
  if (x.size() < a.size() + 1) x.resize(a.size() + 1, 0);
  uint64_t carry = 0;
  size_t i = 0;
  for (; i < a.size(); ++i) {
    u128 t = static_cast<u128>(a[i]) * w + x[i] + carry;
    x[i] = static_cast<uint64_t>(t);
    carry = static_cast<uint64_t>(t >> 64);
  }
  for (; carry != 0 && i < x.size(); ++i) {
    u128 t = static_cast<u128>(x[i]) + carry;
    x[i] = static_cast<uint64_t>(t);
    carry = static_cast<uint64_t>(t >> 64);
  }
  if (carry != 0) x.push_back(carry);
}

uint64_t BigModWord(const BigUint& x, uint64_t w) {
  u128 r = 0;
  for (size_t i = x.size(); i-- > 0;) r = ((r << 64) | x[i]) % w;
  return static_cast<uint64_t>(r);
}

int BigCompare(const BigUint& a, const BigUint& b) {
  size_t n = std::max(a.size(), b.size());
  for (size_t i = n; i-- > 0;) {
    uint64_t x = i < a.size() ? a[i] : 0, y = i < b.size() ? b[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

void BigSub(BigUint& a, const BigUint& b) {
  uint64_t borrow = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    uint64_t y = i < b.size() ? b[i] : 0;
    u128 t = static_cast<u128>(a[i]) - y - borrow;
    a[i] = static_cast<uint64_t>(t);
    borrow = static_cast<uint64_t>(t >> 64) != 0 ? 1 : 0;
  }
}

double BigToDouble(const BigUint& a) {
  double r = 0;
  for (size_t i = a.size(); i-- > 0;) r = r * 18446744073709551616.0 + static_cast<double>(a[i]);
  return r;
}

BigUint BigProduct(std::span<const uint64_t> primes) {
  BigUint r{1};
  for (uint64_t p : primes) {
    BigUint next;
    BigMulAddWord(next, r, p);
    r = std::move(next);
  }
  while (r.size() > 1 && r.back() == 0) r.pop_back();
  return r;
}

double CrtComposeCentered(const Context& ctx, int level, std::span<const uint64_t> residues) {
  CrtScratch scratch;
  return CrtComposeCentered(ctx, level, residues, scratch);
}

double CrtComposeCentered(const Context& ctx, int level, std::span<const uint64_t> residues,
                          CrtScratch& scratch) {
  const BigUint& q = ctx.crt_q(level);
  BigUint& x = scratch.x;
  x.assign(q.size() + 1, 0);
  for (int i = 0; i <= level; ++i) {
    const Modulus& m = ctx.modulus(i);
    uint64_t y = m.Mul(residues[i], ctx.crt_qhat_inv(level, i));
    BigMulAddWord(x, ctx.crt_qhat(level, i), y);
  }
  // x < (level+1) * Q: subtract Q until reduced (public data: the decrypted plaintext).
  while (BigCompare(x, q) >= 0) BigSub(x, q);
  BigUint& twice = scratch.y;
  twice.assign(x.begin(), x.end());
  BigMulAddWord(twice, x, 1);  // 2x
  if (BigCompare(twice, q) > 0) {
    BigUint& neg = scratch.y;  // 2x is no longer needed
    neg.assign(q.begin(), q.end());
    neg.resize(std::max(neg.size(), x.size()), 0);
    BigSub(neg, x);
    return -BigToDouble(neg);
  }
  return BigToDouble(x);
}

BaseConverter::BaseConverter(std::span<const Modulus> src, std::span<const Modulus> dst)
    : src_(src.begin(), src.end()), dst_(dst.begin(), dst.end()) {
  const size_t k = src_.size();
  shat_inv_.resize(k);
  shat_inv_shoup_.resize(k);
  shat_mod_.resize(dst_.size() * k);
  for (size_t i = 0; i < k; ++i) {
    uint64_t prod = 1;
    for (size_t j = 0; j < k; ++j)
      if (j != i) prod = src_[i].Mul(prod, src_[i].Reduce(src_[j].value));
    shat_inv_[i] = InvMod(prod, src_[i]);
    shat_inv_shoup_[i] = ShoupPrecompute(shat_inv_[i], src_[i].value);
    for (size_t t = 0; t < dst_.size(); ++t) {
      uint64_t p = 1;
      for (size_t j = 0; j < k; ++j)
        if (j != i) p = dst_[t].Mul(p, dst_[t].Reduce(src_[j].value));
      shat_mod_[t * k + i] = p;
    }
  }
}

void BaseConverter::Convert(const uint64_t* const* in, uint64_t* const* out, size_t n) const {
  const size_t k = src_.size();
  std::vector<uint64_t> y(k);
  for (size_t c = 0; c < n; ++c) {
    for (size_t i = 0; i < k; ++i)
      y[i] = MulShoup(in[i][c], shat_inv_[i], shat_inv_shoup_[i], src_[i].value);
    for (size_t t = 0; t < dst_.size(); ++t) {
      const Modulus& m = dst_[t];
      const uint64_t* row = &shat_mod_[t * k];
      // y_i < 2^61 and row_i < 2^61: up to 32 products fit in 128 bits before reducing.
      u128 acc = 0;
      for (size_t i = 0; i < k; ++i) {
        acc += static_cast<u128>(y[i]) * row[i];
        if ((i & 31) == 31) acc = m.Reduce128(acc);
      }
      out[t][c] = m.Reduce128(acc);
    }
  }
}

void BaseConverter::ConvertTo(const uint64_t* const* in, size_t t, uint64_t* out, size_t n) const {
  const size_t k = src_.size();
  const Modulus& m = dst_[t];
  if (k == 1) {  // S/s_0 = 1: the conversion is a plain reduction
    for (size_t c = 0; c < n; ++c) out[c] = m.ReduceLazy(in[0][c]);
    return;
  }
  const uint64_t* row = &shat_mod_[t * k];
  for (size_t c = 0; c < n; ++c) {
    u128 acc = 0;
    for (size_t i = 0; i < k; ++i) {
      uint64_t y = MulShoup(in[i][c], shat_inv_[i], shat_inv_shoup_[i], src_[i].value);
      acc += static_cast<u128>(y) * row[i];
      if ((i & 31) == 31) acc = m.Reduce128(acc);
    }
    out[c] = m.Reduce128(acc);
  }
}

}  // namespace loom::ckks
