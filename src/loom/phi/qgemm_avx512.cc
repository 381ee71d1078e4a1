// Batched (prefill) int8 GEMM of Q8_0 / Q4_0 weight rows against Q8_0-quantized activations
// with AVX512-VNNI; see gemm_avx512.h.
//
// Lanes are output rows: each task owns 16 weight rows and, per chunk of 8 blocks (256
// weights), transposes them (plain loads, shuffles in registers) into an L1 buffer where one
// 64-byte vector holds 4 consecutive weights of each of the 16 rows (Q4_0 nibbles unpacked to 0..15
// on the way), with the 16 rows' block scales beside. A token's 4 activation bytes are then
// broadcast to all lanes, so one vpdpbusd advances 16 rows x 4 weights; after a block's 8 of them
// the int32 lanes (exact) become fp32 and are scaled by d_w (16 lanes) x d_x (broadcast) into
// accumulators that are y[token][r0..r0+16] itself: no horizontal sums, and the transpose/unpack is
// paid once per chunk for every token. vpdpbusd multiplies unsigned by signed bytes: Q4_0 weights
// (nibbles) are the unsigned side and each (token, block) carries -8 * sum(x) to fold the nibbles'
// offset; Q8_0 activations are stored biased (x + 128) and each (row, block) carries -128 * sum(w).
// Equal to DotRowReference up to the fp32 accumulation (fused multiply-adds).
#include <algorithm>
#include <cstring>
#include <vector>

#include "loom/base/half.h"
#include "loom/base/thread_pool.h"
#include "loom/phi/gemm_avx512.h"
#include "loom/phi/internal/avx512.h"
#include "loom/phi/kernels_avx512.h"

namespace loom::phi {

#if defined(__x86_64__)
namespace {

constexpr int64_t kRows = 16;         // one output vector per token
constexpr int64_t kChunkBlocks = 8;   // 16 rows x 8 blocks: 4 KiB of interleaved weights
constexpr int kGroups = kQBlock / 4;  // vpdpbusd steps per block
constexpr int kTileTokens = 8;
constexpr int64_t kPrefetchChunks = 2;  // how far ahead the rows are prefetched

// Activations of every token: int8 in block order (Q8_0 weights: biased by 128), d_x per
// block, and for Q4_0 -8 * sum(x) per block.
struct Act {
  int64_t n = 0, blocks = 0;
  std::vector<uint8_t> q;
  std::vector<float> d;
  std::vector<int32_t> corr;
};

// Token j of x into a (a's arrays already sized).
LOOM_PHI_VNNI void PrepareToken(bool q4, const float* xj, int64_t j, Act& a) {
  thread_local std::vector<uint8_t> row;
  row.resize(RowBytes(WeightType::kQ8_0, a.n));
  QuantizeRowQ8_0Avx512(xj, a.n, row.data());
  const __m256i bias = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t blk = 0; blk < a.blocks; ++blk) {
    const uint8_t* src = row.data() + blk * kQ8_0Bytes;
    Half h;
    std::memcpy(&h.bits, src, 2);
    a.d[j * a.blocks + blk] = HalfToFloat(h);
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2));
    const __m256i biased = _mm256_xor_si256(v, bias);  // x + 128
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a.q.data() + j * a.n + blk * kQBlock),
                        q4 ? v : biased);
    if (q4) {  // -8 * sum(x), the sum from the biased bytes' SAD against zero
      const __m256i s = _mm256_sad_epu8(biased, _mm256_setzero_si256());
      const int64_t sum = _mm256_extract_epi64(s, 0) + _mm256_extract_epi64(s, 1) +
                          _mm256_extract_epi64(s, 2) + _mm256_extract_epi64(s, 3) - 128 * kQBlock;
      a.corr[j * a.blocks + blk] = static_cast<int32_t>(-8 * sum);
    }
  }
}

void Prepare(bool q4, const float* x, int64_t tokens, int64_t n, Act& a) {
  a.n = n;
  a.blocks = n / kQBlock;
  a.q.resize(static_cast<size_t>(tokens * n));
  a.d.resize(static_cast<size_t>(tokens * a.blocks));
  a.corr.resize(q4 ? a.d.size() : 0);
  ParallelFor(tokens, 1, [&](int64_t b, int64_t e) {
    for (int64_t j = b; j < e; ++j) PrepareToken(q4, x + j * n, j, a);
  });
}

// The interleaved weights of 16 rows x up to 8 blocks (see the top).
struct Panel {
  alignas(64) uint8_t q[kChunkBlocks * kGroups * 64];
  alignas(64) float scale[kChunkBlocks * kRows];
  alignas(64) int32_t corr[kChunkBlocks * kRows];  // Q8_0: -128 * sum(w)
};

// One block of 16 rows in the panel's layout, from plain loads transposed in registers rather
// than 9 (Q8_0) or 5 (Q4_0) vpgatherdd per block. On this CPU (no gather-sampling microcode)
// the two cost about the same, 13-20 % of a 64-token GEMM, most of it waiting for the rows,
// hence the prefetch in Block; on CPUs with that mitigation a gather is several times slower.
// Row i's block (its fp16 scale, then the quants) is at blk + i * stride; the scales are
// already in the panel.
template <bool kQ4>
LOOM_PHI_VNNI void PackBlock(const uint8_t* blk, size_t stride, int32_t* corr, __m512i* dst) {
  const auto q128 = [&](int i) {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + i * stride + 2));
  };
  if constexpr (kQ4) {
    // 16 bytes per row = 4 dwords. z[i] holds rows i, i + 4, i + 8, i + 12 in its 128-bit
    // lanes; a 4 x 4 dword transpose per lane then leaves dword g of row 4L + i in lane
    // 4L + i of v[g]. Bytes 4g..4g+3 hold elements 4g..4g+3 (low nibbles) and 16+4g..
    // (high nibbles).
    __m512i z[4];
    for (int i = 0; i < 4; ++i) {
      z[i] = _mm512_castsi128_si512(q128(i));
      z[i] = _mm512_inserti32x4(z[i], q128(i + 4), 1);
      z[i] = _mm512_inserti32x4(z[i], q128(i + 8), 2);
      z[i] = _mm512_inserti32x4(z[i], q128(i + 12), 3);
    }
    const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
    const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
    const __m512i v[4] = {_mm512_unpacklo_epi64(t0, t2), _mm512_unpackhi_epi64(t0, t2),
                          _mm512_unpacklo_epi64(t1, t3), _mm512_unpackhi_epi64(t1, t3)};
    const __m512i low4 = _mm512_set1_epi8(0x0F);
    for (int g = 0; g < kGroups / 2; ++g) {
      _mm512_store_si512(dst + g, _mm512_and_si512(v[g], low4));
      _mm512_store_si512(dst + g + kGroups / 2, _mm512_and_si512(_mm512_srli_epi16(v[g], 4), low4));
    }
  } else {
    // 32 bytes per row = 8 dwords. z[i] holds row p(i) in its low 256 bits and row p(i) + 4
    // in its high ones, p = 0 1 2 3 8 9 10 11: after 4 x 4 transposes per 128-bit lane, u[g]
    // (g < 4) holds dword g of rows p(0..3) in lane 0, of p(0..3) + 4 in lane 2, dword g + 4
    // in lanes 1 and 3, u[g + 4] the same for p(4..7); one 128-bit lane shuffle per output
    // then puts rows 0..15 in order.
    __m512i z[8];
    for (int i = 0; i < 8; ++i) {
      const int p = i < 4 ? i : i + 4;
      const uint8_t* lo = blk + p * stride + 2;
      z[i] = _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo))),
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(lo + 4 * stride)), 1);
    }
    __m512i u[8];
    for (int h = 0; h < 2; ++h) {
      const __m512i* zh = z + 4 * h;
      const __m512i t0 = _mm512_unpacklo_epi32(zh[0], zh[1]),
                    t1 = _mm512_unpackhi_epi32(zh[0], zh[1]);
      const __m512i t2 = _mm512_unpacklo_epi32(zh[2], zh[3]),
                    t3 = _mm512_unpackhi_epi32(zh[2], zh[3]);
      u[4 * h] = _mm512_unpacklo_epi64(t0, t2);
      u[4 * h + 1] = _mm512_unpackhi_epi64(t0, t2);
      u[4 * h + 2] = _mm512_unpacklo_epi64(t1, t3);
      u[4 * h + 3] = _mm512_unpackhi_epi64(t1, t3);
    }
    __m512i sum = _mm512_setzero_si512();
    const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
    for (int g = 0; g < kGroups; ++g) {
      const __m512i v = g < 4 ? _mm512_shuffle_i32x4(u[g], u[g + 4], _MM_SHUFFLE(2, 0, 2, 0))
                              : _mm512_shuffle_i32x4(u[g - 4], u[g], _MM_SHUFFLE(3, 1, 3, 1));
      _mm512_store_si512(dst + g, v);
      sum = _mm512_dpbusd_epi32(sum, bias, v);  // 128 * sum(w)
    }
    _mm512_store_si512(reinterpret_cast<__m512i*>(corr),
                       _mm512_sub_epi32(_mm512_setzero_si512(), sum));
  }
}

// The interleaved weights of rows [r0, r0 + 16) x nb blocks starting at block b0 (see the
// top); w + r0 * row_bytes holds 16 rows (Block pads the last ones).
template <bool kQ4>
LOOM_PHI_VNNI void Pack(const uint8_t* w, size_t row_bytes, int64_t b0, int64_t nb, Panel& p) {
  const size_t blk = kQ4 ? kQ4_0Bytes : kQ8_0Bytes;
  const uint8_t* base = w + b0 * blk;
  // The scales first, as scalar loads and stores (assembling them in a vector took a shuffle
  // per row), then converted 16 at a time.
  alignas(64) uint16_t d[kChunkBlocks * kRows];
  for (int64_t i = 0; i < kRows; ++i)
    for (int64_t b = 0; b < nb; ++b)
      std::memcpy(&d[b * kRows + i], base + i * row_bytes + b * blk, 2);
  for (int64_t b = 0; b < nb; ++b) {
    _mm512_store_ps(
        p.scale + b * kRows,
        _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(d + b * kRows))));
    PackBlock<kQ4>(base + b * blk, row_bytes, p.corr + b * kRows,
                   reinterpret_cast<__m512i*>(p.q + b * kGroups * 64));
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
  // Pack reads 16 rows: the last block's are copied with the final row repeated (those lanes
  // are never stored).
  const uint8_t* w16 = w + r0 * row_bytes;
  thread_local std::vector<uint8_t> pad;
  if (rows < kRows) {
    pad.resize(kRows * row_bytes);
    for (int64_t i = 0; i < kRows; ++i)
      std::memcpy(pad.data() + i * row_bytes, w16 + std::min(i, rows - 1) * row_bytes, row_bytes);
    w16 = pad.data();
  }
  const size_t blk = kQ4 ? kQ4_0Bytes : kQ8_0Bytes;
  const int64_t tiles = (tokens + kTileTokens - 1) / kTileTokens;
  for (int64_t b0 = 0; b0 < a.blocks; b0 += kChunkBlocks) {
    const int64_t nb = std::min(kChunkBlocks, a.blocks - b0);
    Pack<kQ4>(w16, row_bytes, b0, nb, p);
    // The next chunk's rows come from memory (the hardware prefetchers do not follow 16
    // short row streams; Pack waited on them): each tile asks for its share of the rows.
    const int64_t next = b0 + kPrefetchChunks * kChunkBlocks,
                  next_nb = std::min(kChunkBlocks, a.blocks - next);
    const uint8_t* pf = w16 + next * blk;
    // Lines from pf's to the one holding the chunk's last byte (pf need not be aligned).
    const int64_t row_end = next_nb > 0 ? static_cast<int64_t>(next_nb * blk) + 63 : 0;
    for (int64_t t = 0; t < tiles; ++t) {
      for (int64_t i = kRows * t / tiles; i < kRows * (t + 1) / tiles; ++i)
        for (int64_t off = 0; off < row_end; off += 64)
          _mm_prefetch(reinterpret_cast<const char*>(pf + i * row_bytes + off), _MM_HINT_T0);
      const int64_t j = t * kTileTokens;
      AnyTile<kQ4>(static_cast<int>(std::min<int64_t>(kTileTokens, tokens - j)), p, b0, nb, a, j,
                   y, out, r0, mask, b0 == 0);
    }
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
