// Batched (prefill) int8 GEMM of Q8_0 / Q4_0 weight rows against Q8_0-quantized activations
// with AVX512-VNNI; see gemm_avx512.h.
//
// Lanes are output rows: each task owns 16 weight rows and, per chunk of 8 blocks (256
// weights), gathers them into an L1 buffer where one 64-byte vector holds 4 consecutive
// weights of each of the 16 rows (Q4_0 nibbles unpacked to 0..15 on the way), with the 16
// rows' block scales beside. A token's 4 activation bytes are then broadcast to all lanes, so
// one vpdpbusd advances 16 rows x 4 weights; after a block's 8 of them the int32 lanes (exact)
// become fp32 and are scaled by d_w (16 lanes) x d_x (broadcast) into accumulators that are
// y[token][r0..r0+16] itself: no horizontal sums, and the gather/unpack is paid once per chunk
// for every token. vpdpbusd multiplies unsigned by signed bytes: Q4_0 weights (nibbles) are
// the unsigned side and each (token, block) carries -8 * sum(x) to fold the nibbles' offset;
// Q8_0 activations are stored biased (x + 128) and each (row, block) carries -128 * sum(w).
// Equal to DotRowReference up to the fp32 accumulation (fused multiply-adds).
#include <algorithm>
#include <cstring>
#include <vector>

#include "loom/base/half.h"
#include "loom/base/thread_pool.h"
#include "loom/phi/gemm_avx512.h"
#include "loom/phi/internal/avx512.h"

namespace loom::phi {

#if defined(__x86_64__)
namespace {

constexpr int64_t kRows = 16;         // one output vector per token
constexpr int64_t kChunkBlocks = 8;   // 16 rows x 8 blocks: 4 KiB of interleaved weights
constexpr int kGroups = kQBlock / 4;  // vpdpbusd steps per block
constexpr int kTileTokens = 8;

// Activations of every token: int8 in block order (Q8_0 weights: biased by 128), d_x per
// block, and for Q4_0 -8 * sum(x) per block.
struct Act {
  int64_t n = 0, blocks = 0;
  std::vector<uint8_t> q;
  std::vector<float> d;
  std::vector<int32_t> corr;
};

void Prepare(bool q4, const float* x, int64_t tokens, int64_t n, Act& a) {
  a.n = n;
  a.blocks = n / kQBlock;
  a.q.resize(static_cast<size_t>(tokens * n));
  a.d.resize(static_cast<size_t>(tokens * a.blocks));
  a.corr.resize(q4 ? a.d.size() : 0);
  ParallelFor(tokens, 1, [&](int64_t b, int64_t e) {
    std::vector<uint8_t> row(RowBytes(WeightType::kQ8_0, n));
    for (int64_t j = b; j < e; ++j) {
      QuantizeRowQ8_0(x + j * n, n, row.data());
      for (int64_t blk = 0; blk < a.blocks; ++blk) {
        const uint8_t* src = row.data() + blk * kQ8_0Bytes;
        Half h;
        std::memcpy(&h.bits, src, 2);
        a.d[j * a.blocks + blk] = HalfToFloat(h);
        uint8_t* dst = a.q.data() + j * n + blk * kQBlock;
        int32_t sum = 0;
        for (int k = 0; k < kQBlock; ++k) {
          sum += static_cast<int8_t>(src[2 + k]);
          dst[k] = q4 ? src[2 + k] : static_cast<uint8_t>(src[2 + k] ^ 0x80);
        }
        if (q4) a.corr[j * a.blocks + blk] = -8 * sum;
      }
    }
  });
}

// The interleaved weights of 16 rows x nb blocks starting at block b0 (see the top).
struct Panel {
  alignas(64) uint8_t q[kChunkBlocks * kGroups * 64];
  alignas(64) float scale[kChunkBlocks * kRows];
  alignas(64) int32_t corr[kChunkBlocks * kRows];  // Q8_0: -128 * sum(w)
};

template <bool kQ4>
LOOM_PHI_VNNI void Gather(const uint8_t* w, size_t row_bytes, int64_t r0, __mmask16 rows,
                          int64_t b0, int64_t nb, Panel& p) {
  const size_t blk = kQ4 ? kQ4_0Bytes : kQ8_0Bytes;
  const __m512i idx =
      _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                         _mm512_set1_epi32(static_cast<int>(row_bytes)));
  const __m512i low4 = _mm512_set1_epi8(0x0F);
  for (int64_t b = 0; b < nb; ++b) {
    const uint8_t* base = w + r0 * row_bytes + (b0 + b) * blk;
    const __m512i h = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rows, idx, base, 1);
    _mm512_store_ps(p.scale + b * kRows, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(h)));
    __m512i* dst = reinterpret_cast<__m512i*>(p.q + b * kGroups * 64);
    if constexpr (kQ4) {
      // Bytes 4g..4g+3 hold elements 4g..4g+3 (low nibbles) and 16+4g.. (high nibbles).
      for (int g = 0; g < kGroups / 2; ++g) {
        const __m512i v =
            _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rows, idx, base + 2 + 4 * g, 1);
        _mm512_store_si512(dst + g, _mm512_and_si512(v, low4));
        _mm512_store_si512(dst + g + kGroups / 2, _mm512_and_si512(_mm512_srli_epi16(v, 4), low4));
      }
    } else {
      __m512i sum = _mm512_setzero_si512();
      const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
      for (int g = 0; g < kGroups; ++g) {
        const __m512i v =
            _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rows, idx, base + 2 + 4 * g, 1);
        _mm512_store_si512(dst + g, v);
        sum = _mm512_dpbusd_epi32(sum, bias, v);  // 128 * sum(w)
      }
      _mm512_store_si512(reinterpret_cast<__m512i*>(p.corr + b * kRows),
                         _mm512_sub_epi32(_mm512_setzero_si512(), sum));
    }
  }
}

// Tokens j0..j0+RN-1 against the panel's nb blocks (global blocks b0..), accumulated into
// y rows [r0, r0 + 16) (zeroed first when `first`).
template <bool kQ4, int RN>
LOOM_PHI_VNNI void Tile(const Panel& p, int64_t b0, int64_t nb, const Act& a, int64_t j0, float* y,
                        int64_t ldy, int64_t r0, __mmask16 rows, bool first) {
  __m512 f[RN];
  for (int j = 0; j < RN; ++j)
    f[j] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(rows, y + (j0 + j) * ldy + r0);
  for (int64_t b = 0; b < nb; ++b) {
    __m512i acc[RN];
    for (int j = 0; j < RN; ++j)
      acc[j] = kQ4 ? _mm512_set1_epi32(a.corr[(j0 + j) * a.blocks + b0 + b])
                   : _mm512_load_si512(p.corr + b * kRows);
    const uint8_t* xb = a.q.data() + j0 * a.n + (b0 + b) * kQBlock;
    for (int g = 0; g < kGroups; ++g) {
      const __m512i wv = _mm512_load_si512(p.q + (b * kGroups + g) * 64);
      for (int j = 0; j < RN; ++j) {
        int32_t x4;
        std::memcpy(&x4, xb + j * a.n + 4 * g, 4);
        const __m512i xv = _mm512_set1_epi32(x4);
        acc[j] = kQ4 ? _mm512_dpbusd_epi32(acc[j], wv, xv) : _mm512_dpbusd_epi32(acc[j], xv, wv);
      }
    }
    const __m512 ws = _mm512_load_ps(p.scale + b * kRows);
    for (int j = 0; j < RN; ++j)
      f[j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[j]),
                             _mm512_mul_ps(ws, _mm512_set1_ps(a.d[(j0 + j) * a.blocks + b0 + b])),
                             f[j]);
  }
  for (int j = 0; j < RN; ++j) _mm512_mask_storeu_ps(y + (j0 + j) * ldy + r0, rows, f[j]);
}

template <bool kQ4>
LOOM_PHI_VNNI void AnyTile(int rn, const Panel& p, int64_t b0, int64_t nb, const Act& a, int64_t j0,
                           float* y, int64_t ldy, int64_t r0, __mmask16 rows, bool first) {
  switch (rn) {
    case 8: return Tile<kQ4, 8>(p, b0, nb, a, j0, y, ldy, r0, rows, first);
    case 7: return Tile<kQ4, 7>(p, b0, nb, a, j0, y, ldy, r0, rows, first);
    case 6: return Tile<kQ4, 6>(p, b0, nb, a, j0, y, ldy, r0, rows, first);
    case 5: return Tile<kQ4, 5>(p, b0, nb, a, j0, y, ldy, r0, rows, first);
    case 4: return Tile<kQ4, 4>(p, b0, nb, a, j0, y, ldy, r0, rows, first);
    case 3: return Tile<kQ4, 3>(p, b0, nb, a, j0, y, ldy, r0, rows, first);
    case 2: return Tile<kQ4, 2>(p, b0, nb, a, j0, y, ldy, r0, rows, first);
    default: return Tile<kQ4, 1>(p, b0, nb, a, j0, y, ldy, r0, rows, first);
  }
}

template <bool kQ4>
LOOM_PHI_VNNI void Block(const uint8_t* w, int64_t out, int64_t r0, const Act& a, int64_t tokens,
                         float* y) {
  const size_t row_bytes = RowBytes(kQ4 ? WeightType::kQ4_0 : WeightType::kQ8_0, a.n);
  const int64_t rows = std::min(kRows, out - r0);
  const __mmask16 mask = internal::LaneMask(rows);
  thread_local Panel panel;
  Panel& p = panel;
  for (int64_t b0 = 0; b0 < a.blocks; b0 += kChunkBlocks) {
    const int64_t nb = std::min(kChunkBlocks, a.blocks - b0);
    Gather<kQ4>(w, row_bytes, r0, mask, b0, nb, p);
    for (int64_t j = 0; j < tokens; j += kTileTokens)
      AnyTile<kQ4>(static_cast<int>(std::min<int64_t>(kTileTokens, tokens - j)), p, b0, nb, a, j,
                   y, out, r0, mask, b0 == 0);
  }
}

}  // namespace

void QGemmAvx512(WeightType t, const uint8_t* w, int64_t n, int64_t out, const float* x,
                 int64_t tokens, float* y) {
  const bool q4 = t == WeightType::kQ4_0;
  thread_local Act storage;  // the caller's; the pool's workers only read it
  Act& a = storage;
  Prepare(q4, x, tokens, n, a);
  ParallelFor((out + kRows - 1) / kRows, 1, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      if (q4)
        Block<true>(w, out, blk * kRows, a, tokens, y);
      else
        Block<false>(w, out, blk * kRows, a, tokens, y);
    }
  });
}

#else  // not x86-64: HaveAvx512Kernels() is false and this is never called.

void QGemmAvx512(WeightType, const uint8_t*, int64_t, int64_t, const float*, int64_t, float*) {}

#endif

}  // namespace loom::phi
