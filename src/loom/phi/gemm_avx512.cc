// Cache-blocked AVX-512 GEMM of F32 / F16 weight rows against fp32 activations; see
// gemm_avx512.h.
#include "loom/phi/gemm_avx512.h"

#include <algorithm>
#include <vector>

#if defined(__x86_64__)
// GCC 12's AVX-512 headers build some intrinsics on a deliberately undefined vector, which
// -Wuninitialized flags once inlined; the warnings are about the headers, not this code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#endif

#include "loom/base/thread_pool.h"

namespace loom::phi {

#if defined(__x86_64__)
#define LOOM_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")))

namespace {

constexpr int64_t kBlockRows = 16;  // rows per task: one 16-lane output vector per token
constexpr int64_t kChunk = 256;     // k per chunk: 16 rows x 256 floats = 16 KiB in L1
constexpr int kTileRows = 4;
constexpr int kTileTokens = 6;

// Lanes [0, n) of 16, for the k tail.
LOOM_AVX512 inline __mmask16 Mask(int64_t n) {
  return n >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << n) - 1);
}

// acc[i * tokens + j] += dot(w row i, x row j) over kc columns, as 16 partial lanes, for an
// RM x RN tile. w rows have stride ldw floats, x rows ldx.
template <int RM, int RN>
LOOM_AVX512 void Tile(const float* w, int64_t ldw, const float* x, int64_t ldx, int64_t kc,
                      float* acc, int64_t tokens) {
  __m512 a[RM][RN];
  for (int i = 0; i < RM; ++i)
    for (int j = 0; j < RN; ++j) a[i][j] = _mm512_loadu_ps(acc + 16 * (i * tokens + j));
  int64_t k = 0;
  for (; k + 16 <= kc; k += 16) {
    __m512 wv[RM];
    for (int i = 0; i < RM; ++i) wv[i] = _mm512_loadu_ps(w + i * ldw + k);
    for (int j = 0; j < RN; ++j) {
      const __m512 xv = _mm512_loadu_ps(x + j * ldx + k);
      for (int i = 0; i < RM; ++i) a[i][j] = _mm512_fmadd_ps(wv[i], xv, a[i][j]);
    }
  }
  if (k < kc) {
    const __mmask16 m = Mask(kc - k);
    __m512 wv[RM];
    for (int i = 0; i < RM; ++i) wv[i] = _mm512_maskz_loadu_ps(m, w + i * ldw + k);
    for (int j = 0; j < RN; ++j) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + j * ldx + k);
      for (int i = 0; i < RM; ++i) a[i][j] = _mm512_fmadd_ps(wv[i], xv, a[i][j]);
    }
  }
  for (int i = 0; i < RM; ++i)
    for (int j = 0; j < RN; ++j) _mm512_storeu_ps(acc + 16 * (i * tokens + j), a[i][j]);
}

// The tile shape chosen at run time for the row / token remainders.
template <int RM>
LOOM_AVX512 void TileRows(int rn, const float* w, int64_t ldw, const float* x, int64_t ldx,
                          int64_t kc, float* acc, int64_t tokens) {
  switch (rn) {
    case 6: return Tile<RM, 6>(w, ldw, x, ldx, kc, acc, tokens);
    case 5: return Tile<RM, 5>(w, ldw, x, ldx, kc, acc, tokens);
    case 4: return Tile<RM, 4>(w, ldw, x, ldx, kc, acc, tokens);
    case 3: return Tile<RM, 3>(w, ldw, x, ldx, kc, acc, tokens);
    case 2: return Tile<RM, 2>(w, ldw, x, ldx, kc, acc, tokens);
    default: return Tile<RM, 1>(w, ldw, x, ldx, kc, acc, tokens);
  }
}

LOOM_AVX512 void AnyTile(int rm, int rn, const float* w, int64_t ldw, const float* x,
                         int64_t ldx, int64_t kc, float* acc, int64_t tokens) {
  switch (rm) {
    case 4: return TileRows<4>(rn, w, ldw, x, ldx, kc, acc, tokens);
    case 3: return TileRows<3>(rn, w, ldw, x, ldx, kc, acc, tokens);
    case 2: return TileRows<2>(rn, w, ldw, x, ldx, kc, acc, tokens);
    default: return TileRows<1>(rn, w, ldw, x, ldx, kc, acc, tokens);
  }
}

// Lane i of the result = the sum of the 16 lanes of v[i]: a transposing tree of adds (four
// levels of shuffles), instead of 16 separate horizontal reductions.
LOOM_AVX512 __m512 ReduceSixteen(const __m512* v) {
  __m512 s[8], u[4], p[2];
  for (int i = 0; i < 8; ++i)  // per 128-bit lane: [a_even, b_even, a_odd, b_odd]
    s[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]),
                         _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
  for (int i = 0; i < 4; ++i)  // per 128-bit lane: the 4 vectors 4i..4i+3
    u[i] = _mm512_add_ps(_mm512_shuffle_ps(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  for (int i = 0; i < 2; ++i)  // lanes 0-1: vectors 8i..8i+3, lanes 2-3: 8i+4..8i+7
    p[i] = _mm512_add_ps(_mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(u[2 * i], u[2 * i + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  return _mm512_add_ps(_mm512_shuffle_f32x4(p[0], p[1], _MM_SHUFFLE(2, 0, 2, 0)),
                       _mm512_shuffle_f32x4(p[0], p[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

// Rows [r0, r0 + rows) (rows <= 16) for every token.
LOOM_AVX512 void Block(bool f16, const uint8_t* w, int64_t n, int64_t out, int64_t r0,
                       int64_t rows, const float* x, int64_t tokens, float* y) {
  // Per thread (each pool worker runs its own blocks), reused across calls.
  thread_local std::vector<float> acc_storage, conv_storage;
  std::vector<float>& acc = acc_storage;
  std::vector<float>& conv = conv_storage;
  acc.assign(static_cast<size_t>(16 * kBlockRows * tokens), 0.0f);
  if (f16) conv.resize(static_cast<size_t>(kBlockRows * kChunk));
  for (int64_t k0 = 0; k0 < n; k0 += kChunk) {
    const int64_t kc = std::min(kChunk, n - k0);
    const float* wc;
    int64_t ldw;
    if (f16) {
      for (int64_t i = 0; i < rows; ++i)
        F16RowToF32Avx512(w + ((r0 + i) * n + k0) * 2, kc, conv.data() + i * kChunk);
      wc = conv.data();
      ldw = kChunk;
    } else {
      wc = reinterpret_cast<const float*>(w) + r0 * n + k0;
      ldw = n;
    }
    for (int64_t j = 0; j < tokens; j += kTileTokens) {
      const int rn = static_cast<int>(std::min<int64_t>(kTileTokens, tokens - j));
      for (int64_t i = 0; i < rows; i += kTileRows) {
        const int rm = static_cast<int>(std::min<int64_t>(kTileRows, rows - i));
        AnyTile(rm, rn, wc + i * ldw, ldw, x + j * n + k0, n, kc, acc.data() + 16 * (i * tokens + j),
                tokens);
      }
    }
  }
  const __mmask16 m = Mask(rows);
  for (int64_t j = 0; j < tokens; ++j) {
    __m512 v[kBlockRows];
    for (int64_t i = 0; i < kBlockRows; ++i) v[i] = _mm512_loadu_ps(acc.data() + 16 * (i * tokens + j));
    _mm512_mask_storeu_ps(y + j * out + r0, m, ReduceSixteen(v));
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
