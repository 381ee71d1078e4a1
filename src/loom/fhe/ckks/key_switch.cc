#include "loom/fhe/ckks/key_switch.h"

#include <algorithm>

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

  // Lazy inner product: 128-bit accumulators, one Barrett reduction per coefficient at the end
  // (ModUp rows are < 4q < 2^62 and key words < 2^60, so each product is < 2^122 and 32
  // digits stay below 2^127, the bound of Modulus::Reduce128).
  std::vector<u128> acc(2 * ext * n, 0);
  std::vector<uint64_t> up(ext * n);
  const size_t digits = (limbs + alpha - 1) / alpha;
  for (size_t j = 0; j < digits; ++j) {
    const size_t lo = j * alpha, hi = std::min(limbs, lo + alpha);
    std::vector<Modulus> src, dst;
    std::vector<const uint64_t*> in;
    std::vector<uint64_t*> out;
    for (size_t i = lo; i < hi; ++i) {
      src.push_back(ctx.modulus(i));
      in.push_back(d_coeff.data() + i * n);
    }
    for (size_t r = 0; r < ext; ++r) {
      if (r >= lo && r < hi) continue;
      dst.push_back(ctx.modulus(prime_of(r)));
      out.push_back(up.data() + r * n);
    }
    BaseConverter(src, dst).Convert(in.data(), out.data(), n);
    for (size_t r = 0; r < ext; ++r) {
      uint64_t* row = up.data() + r * n;
      if (r >= lo && r < hi) std::copy(d + r * n, d + (r + 1) * n, row);
      else ctx.ntt(prime_of(r)).ForwardLazy(row);  // [0, 4q): the 128-bit MAC absorbs it
      const size_t pi = prime_of(r);
      const Modulus& m = ctx.modulus(pi);
      const uint64_t* k0 = key.row(static_cast<int>(j), 0, pi, np, n);
      const uint64_t* k1 = key.row(static_cast<int>(j), 1, pi, np, n);
      u128* a0 = acc.data() + r * n;
      u128* a1 = acc.data() + (ext + r) * n;
      for (size_t k = 0; k < n; ++k) {
        a0[k] += static_cast<u128>(row[k]) * k0[k];
        a1[k] += static_cast<u128>(row[k]) * k1[k];
      }
      if ((j + 1) % 32 == 0)
        for (size_t k = 0; k < n; ++k) {
          a0[k] = m.Reduce128(a0[k]);
          a1[k] = m.Reduce128(a1[k]);
        }
    }
  }
  std::vector<uint64_t> red(2 * ext * n);
  for (int c = 0; c < 2; ++c)
    for (size_t r = 0; r < ext; ++r) {
      const Modulus& m = ctx.modulus(prime_of(r));
      const u128* a = acc.data() + (c * ext + r) * n;
      uint64_t* o = red.data() + (c * ext + r) * n;
      for (size_t k = 0; k < n; ++k) o[k] = m.Reduce128(a[k]);
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
