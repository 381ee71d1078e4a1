// Cache-blocked AVX-512 GEMM of F32 / F16 weight rows against fp32 activations; see
// gemm_avx512.h.
#include "loom/phi/gemm_avx512.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <utility>

#include "loom/base/aligned_buffer.h"
#include "loom/base/thread_pool.h"
#include "loom/phi/internal/avx512.h"

namespace loom::phi {

#if defined(__x86_64__)
namespace {

constexpr int64_t kBlockRows = 32;  // rows per task: two 16-lane output vectors per token
constexpr int64_t kChunk = 128;     // k per chunk: 128 x 32 rows x 4 bytes = 16 KiB in L1
constexpr int kTileTokens = 12;     // 2 x 12 accumulators + 2 weight vectors + 1 broadcast

// In place: r[i] lane k -> r[k] lane i (a 16 x 16 transpose in four rounds of shuffles).
LOOM_PHI_AVX512 void Transpose16(__m512* r) {
  __m512 t[16], u[16];
  for (int i = 0; i < 8; ++i) {  // per 128-bit lane: a0 b0 a1 b1 / a2 b2 a3 b3
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i) {  // u[4i + m], lane L: element 4L + m of rows 4i..4i+3
    u[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    u[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    u[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int m = 0; m < 4; ++m) {  // the 4 x 4 transpose of 128-bit lanes
    const __m512 v0 = _mm512_shuffle_f32x4(u[m], u[4 + m], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 v1 = _mm512_shuffle_f32x4(u[m], u[4 + m], _MM_SHUFFLE(3, 2, 3, 2));
    const __m512 v2 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], _MM_SHUFFLE(1, 0, 1, 0));
    const __m512 v3 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], _MM_SHUFFLE(3, 2, 3, 2));
    r[m] = _mm512_shuffle_f32x4(v0, v2, _MM_SHUFFLE(2, 0, 2, 0));
    r[4 + m] = _mm512_shuffle_f32x4(v0, v2, _MM_SHUFFLE(3, 1, 3, 1));
    r[8 + m] = _mm512_shuffle_f32x4(v1, v3, _MM_SHUFFLE(2, 0, 2, 0));
    r[12 + m] = _mm512_shuffle_f32x4(v1, v3, _MM_SHUFFLE(3, 1, 3, 1));
  }
}

// panel[k * 32 + i] = W[r0 + i][k0 + k] as fp32 for k < kc and i < rows (0 for the other
// rows): per half of the block, 16 x 16 squares loaded row-wise (F16 converted) and
// transposed in registers. (Not vpgatherdd: with this CPU's gather microcode mitigation it
// cost a third of the FMA time.)
LOOM_PHI_AVX512 void Pack(bool f16, const uint8_t* w, int64_t n, int64_t r0, int64_t rows,
                          int64_t k0, int64_t kc, float* panel) {
  for (int64_t h = 0; h < 2; ++h) {
    const int64_t hr0 = r0 + 16 * h, hrows = std::min<int64_t>(16, rows - 16 * h);
    for (int64_t k = 0; k < kc; k += 16) {
      const __mmask16 m = internal::LaneMask(kc - k);
      __m512 r[16];
      for (int64_t i = 0; i < 16; ++i) {
        if (i >= hrows) {
          r[i] = _mm512_setzero_ps();
        } else if (f16) {
          r[i] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + ((hr0 + i) * n + k0 + k) * 2));
        } else {
          r[i] = _mm512_maskz_loadu_ps(m, reinterpret_cast<const float*>(w) + (hr0 + i) * n + k0 + k);
        }
      }
      if (hrows > 0) Transpose16(r);
      for (int64_t j = 0; j < std::min<int64_t>(16, kc - k); ++j)
        _mm512_store_ps(panel + kBlockRows * (k + j) + 16 * h, r[j]);
    }
  }
}

// Cache lines to fetch while a tile computes: lines i in [begin, end) at base + (i >> shift)
// * stride + (i & mask) * 64 (the next chunk's rows), `per_k` per k step.
struct Prefetch {
  const uint8_t* base = nullptr;
  int64_t begin = 0, end = 0, stride = 0, per_k = 1;
  int shift = 0;
};

// y[j0 + j][r0 .. r0 + 32) (+)= sum over the panel's kc columns of panel[k] * xt[k * RN + j]
// for RN tokens (xt: the tile's activations k-major, see PackTokens): per k two weight
// vectors and RN broadcasts at fixed offsets from one pointer feed 2 RN FMAs (with a pointer
// per token row the compiler ran out of registers and spilled them inside the loop).
template <int RN>
LOOM_PHI_AVX512 void Tile(const float* panel, int64_t kc, const float* xt, int64_t j0, float* y,
                          int64_t ldy, int64_t r0, __mmask16 m0, __mmask16 m1, bool first,
                          const Prefetch& pf) {
  __m512 acc0[RN], acc1[RN];
  for (int j = 0; j < RN; ++j) {
    float* yj = y + (j0 + j) * ldy + r0;
    acc0[j] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m0, yj);
    acc1[j] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m1, yj + 16);
  }
  const int64_t mask = (int64_t{1} << pf.shift) - 1;
  for (int64_t k = 0; k < kc; ++k) {
    for (int64_t i = pf.begin + pf.per_k * k; i < std::min(pf.begin + pf.per_k * (k + 1), pf.end);
         ++i)
      _mm_prefetch(
          reinterpret_cast<const char*>(pf.base + (i >> pf.shift) * pf.stride + (i & mask) * 64),
          _MM_HINT_T1);
    const __m512 w0 = _mm512_load_ps(panel + kBlockRows * k);
    const __m512 w1 = _mm512_load_ps(panel + kBlockRows * k + 16);
    for (int j = 0; j < RN; ++j) {
      const __m512 xb = _mm512_set1_ps(xt[k * RN + j]);
      acc0[j] = _mm512_fmadd_ps(w0, xb, acc0[j]);
      acc1[j] = _mm512_fmadd_ps(w1, xb, acc1[j]);
    }
  }
  for (int j = 0; j < RN; ++j) {
    float* yj = y + (j0 + j) * ldy + r0;
    _mm512_mask_storeu_ps(yj, m0, acc0[j]);
    _mm512_mask_storeu_ps(yj + 16, m1, acc1[j]);
  }
}

using TileFn = void (*)(const float*, int64_t, const float*, int64_t, float*, int64_t, int64_t,
                        __mmask16, __mmask16, bool, const Prefetch&);
template <int... RN>
constexpr auto MakeTiles(std::integer_sequence<int, RN...>) {
  return std::array<TileFn, sizeof...(RN)>{&Tile<RN + 1>...};
}
// kTiles[rn - 1] handles rn tokens.
constexpr auto kTiles = MakeTiles(std::make_integer_sequence<int, kTileTokens>{});

// Token tile t of `tiles` near-equal ones: [TileBegin(t), TileBegin(t + 1)) (64 tokens: 6
// tiles of 10-11 rather than 5 of 12 and a slow 4).
inline int64_t TileBegin(int64_t tokens, int64_t tiles, int64_t t) { return tokens * t / tiles; }

// xp[j0 * n + k * rn + (j - j0)] = x[j * n + k] for each token tile [j0, j0 + rn): every
// tile's activations k-major, so a tile reads them from one pointer.
void PackTokens(const float* x, int64_t n, int64_t tokens, int64_t tiles, float* xp) {
  for (int64_t t = 0; t < tiles; ++t) {
    const int64_t j0 = TileBegin(tokens, tiles, t), rn = TileBegin(tokens, tiles, t + 1) - j0;
    float* dst = xp + j0 * n;
    for (int64_t j = 0; j < rn; ++j)
      for (int64_t k = 0; k < n; ++k) dst[k * rn + j] = x[(j0 + j) * n + k];
  }
}

// Rows [r0, r0 + rows) (rows <= 32) for every token; xp from PackTokens.
LOOM_PHI_AVX512 void Block(bool f16, const uint8_t* w, int64_t n, int64_t out, int64_t r0,
                           int64_t rows, const float* xp, int64_t tokens, int64_t tiles, float* y) {
  thread_local AlignedBuffer<float> panel_storage(static_cast<size_t>(kChunk * kBlockRows));
  float* panel = panel_storage.data();
  const __mmask16 m0 = internal::LaneMask(rows), m1 = internal::LaneMask(rows - 16);
  for (int64_t k0 = 0; k0 < n; k0 += kChunk) {
    const int64_t kc = std::min(kChunk, n - k0);
    Pack(f16, w, n, r0, rows, k0, kc, panel);
    // The tiles pull the next chunk's weights into L1 (32 rows x 512 bytes, or 256 for F16),
    // each its share of the lines spread over its k steps: the rows come from memory, Pack
    // stalled on them otherwise, and one tile asking for all of them ran out of fill buffers.
    Prefetch pf;
    int64_t lines = 0;
    if (k0 + kChunk < n) {
      const int elem = f16 ? 2 : 4;
      pf.shift = f16 ? 2 : 3;  // lines per row of a full chunk: 4 or 8
      pf.stride = n * elem;
      pf.base = w + (r0 * n + k0 + kChunk) * elem;
      lines = std::min<int64_t>(rows << pf.shift, (n - k0 - kChunk) * elem * rows / 64);
    }
    for (int64_t t = 0; t < tiles; ++t) {
      const int64_t j0 = TileBegin(tokens, tiles, t), rn = TileBegin(tokens, tiles, t + 1) - j0;
      pf.begin = lines * t / tiles;
      pf.end = lines * (t + 1) / tiles;
      pf.per_k = (pf.end - pf.begin + kc - 1) / kc;
      kTiles[rn - 1](panel, kc, xp + j0 * n + k0 * rn, j0, y, out, r0, m0, m1, k0 == 0, pf);
    }
  }
}

}  // namespace

LOOM_PHI_AVX512 void F16RowToF32Avx512(const uint8_t* src, int64_t n, float* dst) {
  int64_t k = 0;
  for (; k + 16 <= n; k += 16)
    _mm512_storeu_ps(dst + k, _mm512_cvtph_ps(_mm256_loadu_si256(
                                  reinterpret_cast<const __m256i*>(src + 2 * k))));
  if (k < n)
    _mm512_mask_storeu_ps(
        dst + k, internal::LaneMask(n - k),
        _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(internal::LaneMask(n - k), src + 2 * k)));
}

void FGemmAvx512(WeightType t, const uint8_t* w, int64_t n, int64_t out, const float* x,
                 int64_t tokens, float* y) {
  const bool f16 = t == WeightType::kF16;
  const int64_t blocks = (out + kBlockRows - 1) / kBlockRows;
  const int64_t tiles = (tokens + kTileTokens - 1) / kTileTokens;
  // Uninitialised on purpose: PackTokens writes every element.
  const std::unique_ptr<float[]> xp(new float[static_cast<size_t>(tokens * n)]);
  PackTokens(x, n, tokens, tiles, xp.get());
  ParallelFor(blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      const int64_t r0 = blk * kBlockRows;
      Block(f16, w, n, out, r0, std::min(kBlockRows, out - r0), xp.get(), tokens, tiles, y);
    }
  });
}

#else  // not x86-64: HaveAvx512Kernels() is false and this is never called.

void FGemmAvx512(WeightType, const uint8_t*, int64_t, int64_t, const float*, int64_t, float*) {}
void F16RowToF32Avx512(const uint8_t*, int64_t, float*) {}

#endif

}  // namespace loom::phi
