#include "loom/fhe/ckks/key_switch.h"

#include <algorithm>
#include <cstdint>

#include "loom/fhe/ckks/modarith.h"
#include "loom/fhe/ckks/rns.h"

namespace loom::ckks {

void KeySwitch(const Context& ctx, int level, const uint64_t* d, const KSwitchKey& key,
               uint64_t* out0, uint64_t* out1) {
  const size_t n = ctx.n(), np = ctx.num_primes();
  const size_t limbs = static_cast<size_t>(level) + 1;
  const size_t alpha = ctx.num_special_primes();
  const size_t ext = limbs + alpha;  // rows of Q_l * P
  // Context prime index of extended row r.
  auto prime_of = [&](size_t r) { return r < limbs ? r : ctx.special_index(r - limbs); };

  std::vector<uint64_t> d_coeff(d, d + limbs * n);
  for (size_t i = 0; i < limbs; ++i) ctx.ntt(i).Inverse(d_coeff.data() + i * n);

  // Digit j covers data rows [j*alpha, min((j+1)*alpha, limbs)). One converter per digit,
  // targeting every extended row outside the digit.
  const size_t digits = (limbs + alpha - 1) / alpha;
  std::vector<BaseConverter> conv_of;
  std::vector<std::vector<const uint64_t*>> in_of(digits);
  std::vector<std::vector<size_t>> target_of(digits, std::vector<size_t>(ext, SIZE_MAX));
  for (size_t j = 0; j < digits; ++j) {
    const size_t lo = j * alpha, hi = std::min(limbs, lo + alpha);
    std::vector<Modulus> src, dst;
    for (size_t i = lo; i < hi; ++i) {
      src.push_back(ctx.modulus(i));
      in_of[j].push_back(d_coeff.data() + i * n);
    }
    for (size_t r = 0; r < ext; ++r) {
      if (r >= lo && r < hi) continue;
      target_of[j][r] = dst.size();
      dst.push_back(ctx.modulus(prime_of(r)));
    }
    conv_of.emplace_back(src, dst);
  }

  // Row-major inner product (the order SEAL uses): for each extended row, walk the digits and
  // accumulate into two 128-bit rows that stay in cache. ModUp rows are < 4q < 2^62 and key
  // words < 2^60, so each product is < 2^122 and 32 digits stay below 2^127, the bound of
  // Modulus::Reduce128.
  std::vector<uint64_t> red(2 * ext * n);
  std::vector<u128> acc0(n), acc1(n);
  std::vector<uint64_t> up(n);
  for (size_t r = 0; r < ext; ++r) {
    const size_t pi = prime_of(r);
    const Modulus& m = ctx.modulus(pi);
    std::fill(acc0.begin(), acc0.end(), 0);
    std::fill(acc1.begin(), acc1.end(), 0);
    for (size_t j = 0; j < digits; ++j) {
      const uint64_t* row;
      if (target_of[j][r] == SIZE_MAX) {
        row = d + r * n;  // r is in digit j: the NTT form is the input itself
      } else {
        conv_of[j].ConvertTo(in_of[j].data(), target_of[j][r], up.data(), n);
        ctx.ntt(pi).ForwardLazy(up.data());
        row = up.data();
      }
      const uint64_t* k0 = key.row(static_cast<int>(j), 0, pi, np, n);
      const uint64_t* k1 = key.row(static_cast<int>(j), 1, pi, np, n);
      for (size_t k = 0; k < n; ++k) {
        acc0[k] += static_cast<u128>(row[k]) * k0[k];
        acc1[k] += static_cast<u128>(row[k]) * k1[k];
      }
      if ((j + 1) % 32 == 0)
        for (size_t k = 0; k < n; ++k) {
          acc0[k] = m.Reduce128(acc0[k]);
          acc1[k] = m.Reduce128(acc1[k]);
        }
    }
    uint64_t* o0 = red.data() + r * n;
    uint64_t* o1 = red.data() + (ext + r) * n;
    for (size_t k = 0; k < n; ++k) {
      o0[k] = m.Reduce128(acc0[k]);
      o1[k] = m.Reduce128(acc1[k]);
    }
  }

  // ModDown each accumulator.
  std::vector<Modulus> p_mods, q_mods;
  for (size_t k = 0; k < alpha; ++k) p_mods.push_back(ctx.modulus(ctx.special_index(k)));
  for (size_t i = 0; i < limbs; ++i) q_mods.push_back(ctx.modulus(i));
  BaseConverter down(p_mods, q_mods);
  std::vector<uint64_t> conv(limbs * n);
  for (int c = 0; c < 2; ++c) {
    uint64_t* a = red.data() + static_cast<size_t>(c) * ext * n;
    std::vector<const uint64_t*> in;
    std::vector<uint64_t*> out;
    for (size_t k = 0; k < alpha; ++k) {
      uint64_t* row = a + (limbs + k) * n;
      ctx.ntt(ctx.special_index(k)).Inverse(row);
      in.push_back(row);
    }
    for (size_t i = 0; i < limbs; ++i) out.push_back(conv.data() + i * n);
    down.Convert(in.data(), out.data(), n);
    uint64_t* dst = c == 0 ? out0 : out1;
    for (size_t i = 0; i < limbs; ++i) {
      uint64_t* cr = conv.data() + i * n;
      ctx.ntt(i).Forward(cr);
      const Modulus& m = ctx.modulus(i);
      const uint64_t inv = ctx.inv_p_mod(i), inv_s = ShoupPrecompute(inv, m.value);
      const uint64_t* ar = a + i * n;
      uint64_t* o = dst + i * n;
      for (size_t k = 0; k < n; ++k) o[k] = MulShoup(SubMod(ar[k], cr[k], m.value), inv, inv_s, m.value);
    }
  }
}

}  // namespace loom::ckks
