#include "loom/fhe/ckks/key_switch.h"

#include <algorithm>
#include <cstdint>

#include "loom/base/aligned_buffer.h"
#include "loom/fhe/ckks/modarith.h"
#include "loom/fhe/ckks/rns.h"

namespace loom::ckks {

void KeySwitchAdd(const Context& ctx, int level, const uint64_t* d, const KSwitchKey& key,
                  uint64_t* out0, uint64_t* out1) {
  const size_t n = ctx.n(), np = ctx.num_primes();
  const size_t limbs = static_cast<size_t>(level) + 1;
  const size_t alpha = ctx.num_special_primes();
  const size_t ext = limbs + alpha;  // rows of Q_l * P
  // Context prime index of extended row r: data rows first, then the special primes.
  auto prime_of = [&](size_t r) { return r < limbs ? r : ctx.special_index(r - limbs); };

  // One allocation per call for every scratch row (64-byte aligned; never read before written).
  //   d_coeff: limbs rows, the input in coefficient form ([0, q), which the noise bound assumes);
  //   special: 2 * alpha rows, both accumulators over P (ModDown's input);
  //   up, row0, row1, conv0, conv1: one row each; acc: 2 rows of 128-bit lazy sums.
  AlignedBuffer<uint64_t> scratch((limbs + 2 * alpha + 5) * n + 4 * n);
  uint64_t* d_coeff = scratch.data();
  uint64_t* special = d_coeff + limbs * n;
  uint64_t* up = special + 2 * alpha * n;
  uint64_t* row0 = up + n;
  uint64_t* row1 = row0 + n;
  uint64_t* conv0 = row1 + n;
  uint64_t* conv1 = conv0 + n;
  u128* acc0 = reinterpret_cast<u128*>(conv1 + n);
  u128* acc1 = acc0 + n;

  std::copy(d, d + limbs * n, d_coeff);
  for (size_t i = 0; i < limbs; ++i) ctx.ntt(i).Inverse(d_coeff + i * n);

  // Digit j covers data rows [j*alpha, min((j+1)*alpha, limbs)). One converter per digit,
  // targeting every extended row outside the digit.
  const size_t digits = (limbs + alpha - 1) / alpha;
  std::vector<BaseConverter> conv_of;
  conv_of.reserve(digits);
  std::vector<const uint64_t*> in_of(limbs);
  std::vector<size_t> target_of(digits * ext, SIZE_MAX);
  for (size_t j = 0; j < digits; ++j) {
    const size_t lo = j * alpha, hi = std::min(limbs, lo + alpha);
    std::vector<Modulus> src, dst;
    for (size_t i = lo; i < hi; ++i) {
      src.push_back(ctx.modulus(i));
      in_of[i] = d_coeff + i * n;
    }
    for (size_t r = 0; r < ext; ++r) {
      if (r >= lo && r < hi) continue;
      target_of[j * ext + r] = dst.size();
      dst.push_back(ctx.modulus(prime_of(r)));
    }
    conv_of.emplace_back(src, dst);
  }

  // Inner product of extended row r with the key digits (the row-major order SEAL uses): two
  // 128-bit accumulator rows stay in cache; the first digit stores, the last one reduces.
  // ModUp rows are < 4q < 2^62 and key words < 2^60, so each product is < 2^122 and 32 of
  // them stay below 2^127, the bound of Modulus::Reduce128.
  auto inner_product = [&](size_t r, uint64_t* o0, uint64_t* o1) {
    const size_t pi = prime_of(r);
    const Modulus& m = ctx.modulus(pi);
    for (size_t j = 0; j < digits; ++j) {
      const uint64_t* row;
      const size_t target = target_of[j * ext + r];
      if (target == SIZE_MAX) {
        row = d + r * n;  // r is in digit j: the NTT form is the input itself
      } else {
        conv_of[j].ConvertTo(in_of.data() + j * alpha, target, up, n);
        ctx.ntt(pi).ForwardLazy(up);
        row = up;
      }
      const uint64_t* k0 = key.row(static_cast<int>(j), 0, pi, np, n);
      const uint64_t* k1 = key.row(static_cast<int>(j), 1, pi, np, n);
      const bool first = j == 0, last = j + 1 == digits;
      if (first && last) {
        for (size_t k = 0; k < n; ++k) {
          o0[k] = m.Reduce128(static_cast<u128>(row[k]) * k0[k]);
          o1[k] = m.Reduce128(static_cast<u128>(row[k]) * k1[k]);
        }
      } else if (first) {
        for (size_t k = 0; k < n; ++k) {
          acc0[k] = static_cast<u128>(row[k]) * k0[k];
          acc1[k] = static_cast<u128>(row[k]) * k1[k];
        }
      } else if (last) {
        for (size_t k = 0; k < n; ++k) {
          o0[k] = m.Reduce128(acc0[k] + static_cast<u128>(row[k]) * k0[k]);
          o1[k] = m.Reduce128(acc1[k] + static_cast<u128>(row[k]) * k1[k]);
        }
      } else {
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
    }
  };

  // Special rows first: ModDown needs [acc]_P in coefficient form before any data row.
  for (size_t k = 0; k < alpha; ++k) {
    uint64_t* s0 = special + k * n;
    uint64_t* s1 = special + (alpha + k) * n;
    inner_product(limbs + k, s0, s1);
    const NttTables& t = ctx.ntt(ctx.special_index(k));
    t.Inverse(s0);  // exact [acc]_P: a lazy [0, 2p) value could be off by P (result by 1)
    t.Inverse(s1);
  }
  std::vector<Modulus> p_mods, q_mods;
  for (size_t k = 0; k < alpha; ++k) p_mods.push_back(ctx.modulus(ctx.special_index(k)));
  for (size_t i = 0; i < limbs; ++i) q_mods.push_back(ctx.modulus(i));
  BaseConverter down(p_mods, q_mods);
  std::vector<const uint64_t*> in0(alpha), in1(alpha);
  for (size_t k = 0; k < alpha; ++k) {
    in0[k] = special + k * n;
    in1[k] = special + (alpha + k) * n;
  }

  // Data rows: inner product, then ModDown fused with the accumulation into out:
  //   out += (acc - BaseConv_P->q_i([acc]_P)) * P^-1 mod q_i.
  // acc, conv and the running sum live in one row each, so this stays in cache.
  for (size_t i = 0; i < limbs; ++i) {
    inner_product(i, row0, row1);
    const NttTables& t = ctx.ntt(i);
    down.ConvertTo(in0.data(), i, conv0, n);
    down.ConvertTo(in1.data(), i, conv1, n);
    t.ForwardLazy(conv0);
    t.ForwardLazy(conv1);
    const uint64_t q = ctx.modulus(i).value, two_q = 2 * q;
    const uint64_t inv = ctx.inv_p_mod(i), inv_s = ShoupPrecompute(inv, q);
    uint64_t* o0 = out0 + i * n;
    uint64_t* o1 = out1 + i * n;
    for (size_t k = 0; k < n; ++k) {
      // row in [0, q), conv in [0, 4q) -> reduced to [0, 2q); the difference + 2q < 3q.
      uint64_t a0 = row0[k] + two_q - ReduceOnce(conv0[k], two_q);
      uint64_t a1 = row1[k] + two_q - ReduceOnce(conv1[k], two_q);
      o0[k] = AddMod(o0[k], MulShoup(a0, inv, inv_s, q), q);
      o1[k] = AddMod(o1[k], MulShoup(a1, inv, inv_s, q), q);
    }
  }
}

}  // namespace loom::ckks
