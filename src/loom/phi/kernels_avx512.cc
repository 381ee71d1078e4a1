// AVX-512 int8 (Q8_0 / Q4_0) and fp32 (F32 / F16) matmul kernels; see kernels_avx512.h.
#include "loom/phi/kernels_avx512.h"

#include <algorithm>
#include <cstring>

#include "loom/base/half.h"
#include "loom/base/thread_pool.h"
#include "loom/phi/gemm_avx512.h"
#include "loom/phi/internal/avx512.h"
#include "loom/phi/internal/q4_matvec_avx512.h"
#include "loom/phi/quant.h"

namespace loom::phi {

bool HaveAvx512Kernels() {
#if defined(__x86_64__)
  // quant.h's HaveVnni() already covers AVX2, FMA, F16C, AVX512-VNNI and VL.
  static const bool have = HaveVnni() && __builtin_cpu_supports("avx512f") &&
                           __builtin_cpu_supports("avx512bw") &&
                           __builtin_cpu_supports("avx512dq");
  return have;
#else
  return false;
#endif
}

namespace {

constexpr int64_t kPair = 2 * kQBlock;  // weights per 512-bit register

uint16_t LoadBits(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// Q8_0 lane layout of one block pair (16 int32 lanes of 4 bytes each): lanes 0-7 block 0,
// 8-15 block 1.
int LaneBlock(int lane) { return lane / 8; }

}  // namespace

namespace {

// Token j of x into the Q8_0 layout above.
void PrepareQ8Token(const uint8_t* row, int64_t j, QActivations& a) {
  const int64_t n = a.n, pairs = n / kPair;
  for (int64_t p = 0; p < pairs; ++p) {
    const uint8_t* b[2] = {row + (2 * p) * kQ8_0Bytes, row + (2 * p + 1) * kQ8_0Bytes};
    uint8_t* dst = a.q.data() + j * n + p * kPair;
    float* sc = a.scale.data() + (j * pairs + p) * 16;
    for (int k = 0; k < kPair; ++k)
      dst[k] = static_cast<uint8_t>(b[k / kQBlock][2 + k % kQBlock] ^ 0x80);  // x + 128
    float d[2];
    for (int i = 0; i < 2; ++i) {
      Half h;
      h.bits = LoadBits(b[i]);
      d[i] = HalfToFloat(h);
    }
    for (int lane = 0; lane < 16; ++lane) sc[lane] = d[LaneBlock(lane)];
  }
}

}  // namespace

void PrepareQActivations(WeightType t, const float* x, int64_t tokens, int64_t n,
                         QActivations& a) {
  a.type = t;
  a.tokens = tokens;
  a.n = n;
  const bool q4 = t == WeightType::kQ4_0;
  // Q4_0: groups of 128 weights (internal/q4_matvec_avx512.h); Q8_0: block pairs.
  const int64_t groups = q4 ? (n + internal::kQ4Group - 1) / internal::kQ4Group : n / kPair;
  a.q.resize(static_cast<size_t>(tokens * (q4 ? groups * internal::kQ4Group : n)));
  a.scale.resize(static_cast<size_t>(tokens * groups * 16));
  if (q4) a.corr.resize(a.scale.size());
  ParallelFor(tokens, 1, [&](int64_t b, int64_t e) {
    thread_local std::vector<uint8_t> row;
    row.resize(RowBytes(WeightType::kQ8_0, n));
    for (int64_t j = b; j < e; ++j) {
      QuantizeRowQ8_0Avx512(x + j * n, n, row.data());
      if (q4) {
        internal::PrepareQ4Token(row.data(), n, a.q.data() + j * groups * internal::kQ4Group,
                                 a.scale.data() + j * groups * 16, a.corr.data() + j * groups * 16);
      } else {
        PrepareQ8Token(row.data(), j, a);
      }
    }
  });
}

#if defined(__x86_64__)
LOOM_PHI_AVX512 void QuantizeRowQ8_0Avx512(const float* x, int64_t n, uint8_t* out) {
  const __m512 sign = _mm512_set1_ps(-0.0f), half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1);
  for (int64_t b = 0; b < n / kQBlock; ++b, x += kQBlock, out += kQ8_0Bytes) {
    const __m512 v0 = _mm512_loadu_ps(x), v1 = _mm512_loadu_ps(x + 16);
    const float amax =
        _mm512_reduce_max_ps(_mm512_max_ps(_mm512_andnot_ps(sign, v0), _mm512_andnot_ps(sign, v1)));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const uint16_t bits = static_cast<uint16_t>(
        _mm_extract_epi16(_mm_cvtps_ph(_mm_set_ss(d), _MM_FROUND_TO_NEAREST_INT), 0));
    std::memcpy(out, &bits, 2);
    for (int h = 0; h < 2; ++h) {
      const __m512 v = _mm512_mul_ps(h == 0 ? v0 : v1, _mm512_set1_ps(id));
      // std::round: truncate, then step away from zero when the dropped part is >= 1/2
      // (v - trunc(v) is exact).
      __m512 t = _mm512_roundscale_ps(v, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
      const __mmask16 up =
          _mm512_cmp_ps_mask(_mm512_andnot_ps(sign, _mm512_sub_ps(v, t)), half, _CMP_GE_OQ);
      t = _mm512_mask_add_ps(t, up, t, _mm512_or_ps(one, _mm512_and_ps(sign, v)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 2 + 16 * h),
                       _mm512_cvtepi32_epi8(_mm512_cvttps_epi32(t)));
    }
  }
}

namespace {

// Scales of weight blocks b0, b1 in the Q8_0 pair layout, as 16 floats: the two halves
// converted together, then spread over the lanes by one permute (building the 16 halves with
// scalar shifts first cost more than the int8 products themselves in decode).
LOOM_PHI_VNNI inline __m512 WeightScales(const uint8_t* b0, const uint8_t* b1) {
  const __m128 d = _mm_cvtph_ps(
      _mm_cvtsi32_si128(static_cast<int>(LoadBits(b0) | (uint32_t{LoadBits(b1)} << 16))));
  const __m512i idx = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
  return _mm512_permutexvar_ps(idx, _mm512_castps128_ps512(d));
}

// One Q8_0 tile: RM weight rows x RN tokens over all block pairs.
template <int RM, int RN>
LOOM_PHI_VNNI void QTile(const uint8_t* w, size_t row_bytes, int64_t r, int64_t j0,
                         const QActivations& a, float* y, int64_t ldy) {
  const int64_t pairs = a.n / kPair;
  __m512 acc[RM][RN];
  for (int i = 0; i < RM; ++i)
    for (int j = 0; j < RN; ++j) acc[i][j] = _mm512_setzero_ps();
  const __m512i bias = _mm512_set1_epi8(static_cast<char>(0x80));
  for (int64_t p = 0; p < pairs; ++p) {
    __m512i wq[RM], wc[RM];
    __m512 sw[RM];
    for (int i = 0; i < RM; ++i) {
      const uint8_t* b0 = w + (r + i) * row_bytes + 2 * p * kQ8_0Bytes;
      const uint8_t* b1 = b0 + kQ8_0Bytes;
      // The next tile's rows (RM rows further on) at the same offset: decode is bound by
      // these loads, and 4 short row streams per tile leave the hardware prefetcher behind.
      _mm_prefetch(reinterpret_cast<const char*>(b0 + RM * row_bytes), _MM_HINT_T0);
      wq[i] = _mm512_inserti64x4(
          _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(b0 + 2))),
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b1 + 2)), 1);
      // -128 * sum(w) per lane undoes the +128 bias of the activations.
      wc[i] = _mm512_sub_epi32(_mm512_setzero_si512(),
                               _mm512_dpbusd_epi32(_mm512_setzero_si512(), bias, wq[i]));
      sw[i] = WeightScales(b0, b1);
    }
    for (int j = 0; j < RN; ++j) {
      const int64_t tok = j0 + j;
      const __m512i xq = _mm512_loadu_si512(a.q.data() + tok * a.n + p * kPair);
      const __m512 sx = _mm512_loadu_ps(a.scale.data() + (tok * pairs + p) * 16);
      for (int i = 0; i < RM; ++i) {
        const __m512i dot = _mm512_dpbusd_epi32(wc[i], xq, wq[i]);
        acc[i][j] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(sw[i], sx), acc[i][j]);
      }
    }
  }
  for (int i = 0; i < RM; ++i)
    for (int j = 0; j < RN; ++j) y[(j0 + j) * ldy + r + i] = _mm512_reduce_add_ps(acc[i][j]);
}

LOOM_PHI_VNNI void Q8MatMul(const uint8_t* w, int64_t r0, int64_t r1, const QActivations& a,
                            float* y, int64_t ldy) {
  const size_t row_bytes = RowBytes(a.type, a.n);
  int64_t r = r0;
  for (; r + 4 <= r1; r += 4) {
    int64_t j = 0;
    for (; j + 4 <= a.tokens; j += 4) QTile<4, 4>(w, row_bytes, r, j, a, y, ldy);
    for (; j < a.tokens; ++j) QTile<4, 1>(w, row_bytes, r, j, a, y, ldy);
  }
  for (; r < r1; ++r) {
    int64_t j = 0;
    for (; j + 4 <= a.tokens; j += 4) QTile<1, 4>(w, row_bytes, r, j, a, y, ldy);
    for (; j < a.tokens; ++j) QTile<1, 1>(w, row_bytes, r, j, a, y, ldy);
  }
}

// Decode over F16 rows: converted in registers (one token, nothing to amortize a buffer).
template <int RM>
LOOM_PHI_VNNI void F16Gemv(const uint8_t* w, size_t row_bytes, int64_t n, int64_t r, const float* x,
                           float* y) {
  __m512 acc[RM];
  for (int i = 0; i < RM; ++i) acc[i] = _mm512_setzero_ps();
  for (int64_t k = 0; k < n; k += 16) {
    const __mmask16 m = internal::LaneMask(n - k);
    const __m512 xv = _mm512_maskz_loadu_ps(m, x + k);
    // The next tile's rows, as in QTile (one line covers two iterations).
    for (int i = 0; i < RM; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(w + (r + RM + i) * row_bytes + 2 * k),
                   _MM_HINT_T0);
    for (int i = 0; i < RM; ++i)
      acc[i] = _mm512_fmadd_ps(
          _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, w + (r + i) * row_bytes + 2 * k)), xv,
          acc[i]);
  }
  for (int i = 0; i < RM; ++i) y[r + i] = _mm512_reduce_add_ps(acc[i]);
}

// RM fp32 rows (w, stride n floats) x RN tokens; results go to y rows r...
template <int RM, int RN>
LOOM_PHI_VNNI void FTile(const float* w, int64_t n, int64_t r, int64_t j0, const float* x, float* y,
                         int64_t ldy) {
  __m512 acc[RM][RN];
  for (int i = 0; i < RM; ++i)
    for (int j = 0; j < RN; ++j) acc[i][j] = _mm512_setzero_ps();
  for (int64_t k = 0; k < n; k += 16) {
    const __mmask16 m = internal::LaneMask(n - k);
    __m512 wv[RM];
    for (int i = 0; i < RM; ++i) wv[i] = _mm512_maskz_loadu_ps(m, w + i * n + k);
    // The next tile's rows, as in QTile, but into L2: the fp32 rows are 4x longer, and in L1
    // they evicted the current tile's lines (14.5 against 14.0 GB/s on one core).
    for (int i = 0; i < RM; ++i)
      _mm_prefetch(reinterpret_cast<const char*>(w + (RM + i) * n + k), _MM_HINT_T1);
    for (int j = 0; j < RN; ++j) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + (j0 + j) * n + k);
      for (int i = 0; i < RM; ++i) acc[i][j] = _mm512_fmadd_ps(wv[i], xv, acc[i][j]);
    }
  }
  for (int i = 0; i < RM; ++i)
    for (int j = 0; j < RN; ++j) y[(j0 + j) * ldy + r + i] = _mm512_reduce_add_ps(acc[i][j]);
}

template <int RM>
LOOM_PHI_VNNI void FRows(const float* w, int64_t n, int64_t r, const float* x, int64_t tokens,
                         float* y, int64_t ldy) {
  int64_t j = 0;
  for (; j + 4 <= tokens; j += 4) FTile<RM, 4>(w, n, r, j, x, y, ldy);
  for (; j < tokens; ++j) FTile<RM, 1>(w, n, r, j, x, y, ldy);
}

// F16 rows are converted to fp32 once per group of 4 rows (an L1/L2-resident buffer) and
// then meet every token: the conversion is paid once, not once per token tile.
LOOM_PHI_VNNI void FMatMul(WeightType t, const uint8_t* w, int64_t n, int64_t r0, int64_t r1,
                           const float* x, int64_t tokens, float* y, int64_t ldy) {
  const bool f16 = t == WeightType::kF16;
  const size_t row_bytes = RowBytes(t, n);
  thread_local std::vector<float> rows;
  if (f16) rows.resize(static_cast<size_t>(4 * n));
  auto fp32 = [&](int64_t r, int64_t count) {
    if (!f16) return reinterpret_cast<const float*>(w + r * row_bytes);
    for (int64_t i = 0; i < count; ++i) F16RowToF32Avx512(w + (r + i) * row_bytes, n, rows.data() + i * n);
    return static_cast<const float*>(rows.data());
  };
  int64_t r = r0;
  if (f16 && tokens == 1) {
    for (; r + 4 <= r1; r += 4) F16Gemv<4>(w, row_bytes, n, r, x, y);
    for (; r < r1; ++r) F16Gemv<1>(w, row_bytes, n, r, x, y);
    return;
  }
  for (; r + 4 <= r1; r += 4) FRows<4>(fp32(r, 4), n, r, x, tokens, y, ldy);
  for (; r < r1; ++r) FRows<1>(fp32(r, 1), n, r, x, tokens, y, ldy);
}

// glibc's libmvec (the AVX-512 variants, called only on CPUs that have it).
// Declared with the kernels' target so that clang accepts __m512 arguments (an ABI question).
extern "C" LOOM_PHI_AVX512 __m512 _ZGVeN16v_tanhf(__m512);
extern "C" LOOM_PHI_AVX512 __m512 _ZGVeN16v_expf(__m512);

LOOM_PHI_VNNI void GeluNew16(float* x, int64_t n) {
  const __mmask16 m = internal::LaneMask(n);
  const __m512 v = _mm512_maskz_loadu_ps(m, x);
  const __m512 k = _mm512_set1_ps(0.7978845608028654f), c = _mm512_set1_ps(0.044715f);
  const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
  // Same operation order as the scalar GeluNew: k * (v + c * v * v * v).
  const __m512 v3 = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(c, v), v), v);
  const __m512 th = _ZGVeN16v_tanhf(_mm512_mul_ps(k, _mm512_add_ps(v, v3)));
  _mm512_mask_storeu_ps(x, m, _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, th)));
}

LOOM_PHI_VNNI void SwiGlu16(const float* g, const float* u, int64_t n, float* out) {
  const __mmask16 m = internal::LaneMask(n);
  const __m512 gv = _mm512_maskz_loadu_ps(m, g), uv = _mm512_maskz_loadu_ps(m, u);
  const __m512 e = _ZGVeN16v_expf(_mm512_sub_ps(_mm512_setzero_ps(), gv));
  const __m512 silu = _mm512_div_ps(gv, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
  _mm512_mask_storeu_ps(out, m, _mm512_mul_ps(uv, silu));
}

}  // namespace

void GeluNewAvx512(float* x, int64_t n) {
  ParallelFor((n + 15) / 16, 1024, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) GeluNew16(x + 16 * i, n - 16 * i);
  });
}

void SwiGluAvx512(const float* gate_up, int64_t t, int64_t f, float* out) {
  ParallelFor(t, 1, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r)
      for (int64_t i = 0; i < f; i += 16)
        SwiGlu16(gate_up + r * 2 * f + i, gate_up + r * 2 * f + f + i, f - i, out + r * f + i);
  });
}

void QMatMulAvx512(const uint8_t* w, int64_t r0, int64_t r1, const QActivations& a, float* y,
                   int64_t ldy) {
  if (a.type == WeightType::kQ4_0)
    internal::Q4MatVecAvx512(w, a.n, r0, r1, a.q.data(), a.scale.data(), a.corr.data(), a.tokens,
                             y, ldy);
  else
    Q8MatMul(w, r0, r1, a, y, ldy);
}

void FMatMulAvx512(WeightType t, const uint8_t* w, int64_t n, int64_t r0, int64_t r1,
                   const float* x, int64_t tokens, float* y, int64_t ldy) {
  FMatMul(t, w, n, r0, r1, x, tokens, y, ldy);
}

#else  // not x86-64: HaveAvx512Kernels() is false and these are never called.

void QMatMulAvx512(const uint8_t*, int64_t, int64_t, const QActivations&, float*, int64_t) {}
void FMatMulAvx512(WeightType, const uint8_t*, int64_t, int64_t, int64_t, const float*, int64_t,
                   float*, int64_t) {}
void QuantizeRowQ8_0Avx512(const float*, int64_t, uint8_t*) {}
void GeluNewAvx512(float*, int64_t) {}
void SwiGluAvx512(const float*, int64_t, int64_t, float*) {}

#endif

}  // namespace loom::phi
