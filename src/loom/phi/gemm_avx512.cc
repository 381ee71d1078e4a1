// Cache-blocked AVX-512 GEMM of F32 / F16 weight rows against fp32 activations; see
// gemm_avx512.h.
#include "loom/phi/gemm_avx512.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#if defined(__x86_64__)
// GCC 12's AVX-512 headers build some intrinsics on a deliberately undefined vector, which
// -Wuninitialized flags once inlined; the warnings are about the headers, not this code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif

#include "loom/base/aligned_buffer.h"
#include "loom/base/thread_pool.h"

namespace loom::phi {

#if defined(__x86_64__)
#define LOOM_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))

namespace {

constexpr int64_t kBlockRows = 16;  // rows per task: one 16-lane output vector per token
constexpr int64_t kChunk = 256;     // k per chunk: 256 x 16 rows x 4 bytes = 16 KiB in L1
constexpr int kTileTokens = 12;     // 12 accumulators cover the FMA latency on two ports

// Lanes [0, n) of 16.
LOOM_AVX512 inline __mmask16 Mask(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
}

// panel[k * 16 + i] = W[r0 + i][k0 + k] as fp32 for k < kc (rows outside `rows` read 0).
LOOM_AVX512 void Gather(bool f16, const uint8_t* w, int64_t n, int64_t r0, __mmask16 rows,
                        int64_t k0, int64_t kc, float* panel) {
  const int64_t row_bytes = f16 ? 2 * n : 4 * n;
  const __m512i idx =
      _mm512_mullo_epi32(_mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
                         _mm512_set1_epi32(static_cast<int>(row_bytes)));
  const uint8_t* base = w + r0 * row_bytes;
  if (!f16) {
    for (int64_t k = 0; k < kc; ++k)
      _mm512_store_ps(panel + 16 * k, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), rows, idx,
                                                               base + 4 * (k0 + k), 1));
    return;
  }
  int64_t k = 0;
  for (; k + 2 <= kc; k += 2) {  // one 32-bit gather brings two halves of each row
    const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), rows, idx,
                                                  base + 2 * (k0 + k), 1);
    _mm512_store_ps(panel + 16 * k, _mm512_cvtph_ps(_mm512_cvtepi32_epi16(v)));
    _mm512_store_ps(panel + 16 * (k + 1),
                    _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(v, 16))));
  }
  if (k < kc) {  // odd width: the last half alone (a 32-bit read could pass the matrix end)
    alignas(64) uint16_t h[16] = {};
    for (int i = 0; i < 16; ++i)
      if ((rows >> i) & 1) std::memcpy(&h[i], base + i * row_bytes + 2 * (k0 + k), 2);
    _mm512_store_ps(panel + 16 * k,
                    _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(h))));
  }
}

// y[j0 + j][r0 .. r0 + 16) (+)= sum over the panel's kc columns of panel[k] * x[j0 + j][k0 + k]
// for RN tokens: one weight vector and RN broadcast activations per k.
template <int RN>
LOOM_AVX512 void Tile(const float* panel, int64_t kc, const float* x, int64_t n, int64_t k0,
                      int64_t j0, float* y, int64_t ldy, int64_t r0, __mmask16 rows,
                      bool first) {
  __m512 acc[RN];
  for (int j = 0; j < RN; ++j)
    acc[j] = first ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(rows, y + (j0 + j) * ldy + r0);
  const float* xk = x + j0 * n + k0;
  for (int64_t k = 0; k < kc; ++k) {
    const __m512 wv = _mm512_load_ps(panel + 16 * k);
    for (int j = 0; j < RN; ++j) acc[j] = _mm512_fmadd_ps(wv, _mm512_set1_ps(xk[j * n + k]), acc[j]);
  }
  for (int j = 0; j < RN; ++j) _mm512_mask_storeu_ps(y + (j0 + j) * ldy + r0, rows, acc[j]);
}

using TileFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, int64_t, float*,
                        int64_t, int64_t, __mmask16, bool);
template <int... RN>
constexpr auto MakeTiles(std::integer_sequence<int, RN...>) {
  return std::array<TileFn, sizeof...(RN)>{&Tile<RN + 1>...};
}
// kTiles[rn - 1] handles rn tokens.
constexpr auto kTiles = MakeTiles(std::make_integer_sequence<int, kTileTokens>{});

// Rows [r0, r0 + rows) (rows <= 16) for every token.
LOOM_AVX512 void Block(bool f16, const uint8_t* w, int64_t n, int64_t out, int64_t r0,
                       int64_t rows, const float* x, int64_t tokens, float* y) {
  thread_local AlignedBuffer<float> panel_storage(static_cast<size_t>(kChunk * kBlockRows));
  float* panel = panel_storage.data();
  const __mmask16 m = Mask(rows);
  for (int64_t k0 = 0; k0 < n; k0 += kChunk) {
    const int64_t kc = std::min(kChunk, n - k0);
    Gather(f16, w, n, r0, m, k0, kc, panel);
    for (int64_t j = 0; j < tokens; j += kTileTokens) {
      const int64_t rn = std::min<int64_t>(kTileTokens, tokens - j);
      kTiles[rn - 1](panel, kc, x, n, k0, j, y, out, r0, m, k0 == 0);
    }
  }
}

}  // namespace

LOOM_AVX512 void F16RowToF32Avx512(const uint8_t* src, int64_t n, float* dst) {
  int64_t k = 0;
  for (; k + 16 <= n; k += 16)
    _mm512_storeu_ps(dst + k, _mm512_cvtph_ps(_mm256_loadu_si256(
                                  reinterpret_cast<const __m256i*>(src + 2 * k))));
  if (k < n)
    _mm512_mask_storeu_ps(dst + k, Mask(n - k),
                          _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(Mask(n - k), src + 2 * k)));
}

void FGemmAvx512(WeightType t, const uint8_t* w, int64_t n, int64_t out, const float* x,
                 int64_t tokens, float* y) {
  const bool f16 = t == WeightType::kF16;
  const int64_t blocks = (out + kBlockRows - 1) / kBlockRows;
  ParallelFor(blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      const int64_t r0 = blk * kBlockRows;
      Block(f16, w, n, out, r0, std::min(kBlockRows, out - r0), x, tokens, y);
    }
  });
}

#else  // not x86-64: HaveAvx512Kernels() is false and this is never called.

void FGemmAvx512(WeightType, const uint8_t*, int64_t, int64_t, const float*, int64_t, float*) {}
void F16RowToF32Avx512(const uint8_t*, int64_t, float*) {}

#endif

}  // namespace loom::phi
