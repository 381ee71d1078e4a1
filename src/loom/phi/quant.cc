// Q8_0 / Q4_0 / F16 rows and their dot products; see quant.h.
#include "loom/phi/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "loom/base/cpu.h"
#include "loom/base/half.h"
#include "loom/base/strings.h"

namespace loom::phi {
namespace {

float LoadHalf(const uint8_t* p) {
  Half h;
  std::memcpy(&h.bits, p, 2);
  return HalfToFloat(h);
}
void StoreHalf(float v, uint8_t* p) {
  const uint16_t bits = FloatToHalf(v).bits;
  std::memcpy(p, &bits, 2);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) inline float HSum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Sum of int8 x int8 products of 32 lanes as 8 int32 sums -> float, via the sign trick
// (maddubs needs one unsigned operand).
__attribute__((target("avx2,fma"))) inline __m256 MulSumI8(__m256i a, __m256i b) {
  const __m256i ax = _mm256_sign_epi8(a, a);
  const __m256i sy = _mm256_sign_epi8(b, a);
  const __m256i dot16 = _mm256_maddubs_epi16(ax, sy);
  const __m256i dot32 = _mm256_madd_epi16(dot16, _mm256_set1_epi16(1));
  return _mm256_cvtepi32_ps(dot32);
}

// Block scales are fp16; F16C converts them in one instruction where the portable
// HalfToFloat takes a dozen (it dominated the Q kernels' time).
__attribute__((target("f16c"))) inline float HalfF16c(const uint8_t* p) {
  uint16_t bits;
  std::memcpy(&bits, p, 2);
  return _cvtsh_ss(bits);
}

// 32 signed 4-bit weights of a Q4_0 block as int8 in block order (low nibbles are elements
// 0..15, high nibbles 16..31).
__attribute__((target("avx2"))) inline __m256i UnpackQ4(const uint8_t* packed16) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(packed16));
  const __m256i q = _mm256_set_m128i(_mm_srli_epi16(packed, 4), packed);
  return _mm256_sub_epi8(_mm256_and_si256(q, _mm256_set1_epi8(0x0F)), _mm256_set1_epi8(8));
}

// The same sum with AVX512-VNNI's dpbusd (one instruction for maddubs + madd). Both operands
// stay within +-127 (the quantizers never emit -128), where maddubs cannot saturate, so the
// int32 sums and therefore the results equal the AVX2 kernel's bit for bit.
__attribute__((target("avx2,fma,avx512vnni,avx512vl"))) inline __m256 MulSumI8Vnni(__m256i a,
                                                                                   __m256i b) {
  const __m256i ax = _mm256_sign_epi8(a, a);
  const __m256i sy = _mm256_sign_epi8(b, a);
  return _mm256_cvtepi32_ps(_mm256_dpbusd_epi32(_mm256_setzero_si256(), ax, sy));
}

// Q8_0 and Q4_0 dots against Q8_0 activations, stamped once per instruction set. Two
// accumulators so consecutive blocks' FMAs do not wait on each other.
#define LOOM_PHI_Q_DOTS(SUFFIX, TARGET, MULSUM)                                              \
  __attribute__((target(TARGET))) float DotQ8##SUFFIX(const uint8_t* w, const uint8_t* x,    \
                                                      int64_t n) {                           \
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};                              \
    for (int64_t b = 0; b < n / kQBlock; ++b) {                                              \
      const uint8_t* wb = w + b * kQ8_0Bytes;                                                \
      const uint8_t* xb = x + b * kQ8_0Bytes;                                                \
      const float d = HalfF16c(wb) * HalfF16c(xb);                                           \
      const __m256i qw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + 2));       \
      const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 2));       \
      acc[b & 1] = _mm256_fmadd_ps(_mm256_set1_ps(d), MULSUM(qw, qx), acc[b & 1]);           \
    }                                                                                        \
    return HSum(_mm256_add_ps(acc[0], acc[1]));                                              \
  }                                                                                          \
  __attribute__((target(TARGET))) float DotQ4##SUFFIX(const uint8_t* w, const uint8_t* x,    \
                                                      int64_t n) {                           \
    __m256 acc[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};                              \
    for (int64_t b = 0; b < n / kQBlock; ++b) {                                              \
      const uint8_t* wb = w + b * kQ4_0Bytes;                                                \
      const uint8_t* xb = x + b * kQ8_0Bytes;                                                \
      const float d = HalfF16c(wb) * HalfF16c(xb);                                           \
      const __m256i qx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xb + 2));       \
      acc[b & 1] =                                                                           \
          _mm256_fmadd_ps(_mm256_set1_ps(d), MULSUM(UnpackQ4(wb + 2), qx), acc[b & 1]);      \
    }                                                                                        \
    return HSum(_mm256_add_ps(acc[0], acc[1]));                                              \
  }

LOOM_PHI_Q_DOTS(Avx2, "avx2,fma,f16c", MulSumI8)
LOOM_PHI_Q_DOTS(Vnni, "avx2,fma,f16c,avx512vnni,avx512vl", MulSumI8Vnni)
#undef LOOM_PHI_Q_DOTS

// d * q for 32 int8 lanes, stored as 32 floats (exactly the scalar product d * q).
__attribute__((target("avx2,fma"))) inline void StoreScaledI8(__m256i q, float d, float* out) {
  const __m256 vd = _mm256_set1_ps(d);
  const __m128i lo = _mm256_castsi256_si128(q);
  const __m128i hi = _mm256_extracti128_si256(q, 1);
  _mm256_storeu_ps(out, _mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(lo))));
  _mm256_storeu_ps(out + 8, _mm256_mul_ps(
      vd, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)))));
  _mm256_storeu_ps(out + 16, _mm256_mul_ps(vd, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(hi))));
  _mm256_storeu_ps(out + 24, _mm256_mul_ps(
      vd, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)))));
}

__attribute__((target("avx2,fma,f16c"))) void DequantizeAvx2(WeightType t, const uint8_t* row,
                                                              int64_t n, float* out) {
  switch (t) {
    case WeightType::kF16: {
      int64_t i = 0;
      for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(
                                      reinterpret_cast<const __m128i*>(row + 2 * i))));
      for (; i < n; ++i) out[i] = HalfF16c(row + 2 * i);
      return;
    }
    case WeightType::kQ8_0:
      for (int64_t b = 0; b < n / kQBlock; ++b) {
        const uint8_t* p = row + b * kQ8_0Bytes;
        StoreScaledI8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 2)), HalfF16c(p),
                      out + b * kQBlock);
      }
      return;
    case WeightType::kQ4_0:
      for (int64_t b = 0; b < n / kQBlock; ++b) {
        const uint8_t* p = row + b * kQ4_0Bytes;
        StoreScaledI8(UnpackQ4(p + 2), HalfF16c(p), out + b * kQBlock);
      }
      return;
    case WeightType::kF32:
      std::memcpy(out, row, static_cast<size_t>(n) * 4);
      return;
  }
}

__attribute__((target("avx2,fma,f16c"))) float DotF16Avx2(const uint8_t* w, const float* x,
                                                           int64_t n) {
  __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i)));
    const __m256 w1 =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + 2 * i + 16)));
    a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), a0);
    a1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i + 8), a1);
  }
  float s = HSum(_mm256_add_ps(a0, a1));
  for (; i < n; ++i) s += LoadHalf(w + 2 * i) * x[i];
  return s;
}
#endif

}  // namespace

// AVX512-VNNI with 256-bit (VL) encodings: the dpbusd Q kernels.
bool HaveVnni() {
#if defined(__x86_64__)
  static const bool have = HaveAvx2() && __builtin_cpu_supports("avx512vnni") &&
                           __builtin_cpu_supports("avx512vl");
  return have;
#else
  return false;
#endif
}

bool HaveAvx2() {
#if defined(__x86_64__)
  static const bool have =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && CpuHasF16c();
  return have;
#else
  return false;
#endif
}

StatusOr<WeightType> ParseWeightType(std::string_view name) {
  if (name == "f32" || name == "F32") return WeightType::kF32;
  if (name == "f16" || name == "F16") return WeightType::kF16;
  if (name == "q8_0" || name == "Q8_0") return WeightType::kQ8_0;
  if (name == "q4_0" || name == "Q4_0") return WeightType::kQ4_0;
  return InvalidArgumentError(StrCat("unknown weight type '", name, "' (f32 f16 q8_0 q4_0)"));
}

std::string_view WeightTypeName(WeightType t) {
  switch (t) {
    case WeightType::kF32: return "f32";
    case WeightType::kF16: return "f16";
    case WeightType::kQ8_0: return "q8_0";
    case WeightType::kQ4_0: return "q4_0";
  }
  return "?";
}

size_t RowBytes(WeightType t, int64_t n) {
  switch (t) {
    case WeightType::kF32: return static_cast<size_t>(n) * 4;
    case WeightType::kF16: return static_cast<size_t>(n) * 2;
    case WeightType::kQ8_0: return static_cast<size_t>(n / kQBlock) * kQ8_0Bytes;
    case WeightType::kQ4_0: return static_cast<size_t>(n / kQBlock) * kQ4_0Bytes;
  }
  return 0;
}

void QuantizeRowQ8_0(const float* x, int64_t n, uint8_t* out) {
  for (int64_t b = 0; b < n / kQBlock; ++b, x += kQBlock, out += kQ8_0Bytes) {
    float amax = 0;
    for (int j = 0; j < kQBlock; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreHalf(d, out);
    for (int j = 0; j < kQBlock; ++j)
      out[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::round(x[j] * id)));
  }
}

void QuantizeRowQ4_0(const float* x, int64_t n, uint8_t* out) {
  for (int64_t b = 0; b < n / kQBlock; ++b, x += kQBlock, out += kQ4_0Bytes) {
    float amax = 0, max = 0;
    for (int j = 0; j < kQBlock; ++j)
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    StoreHalf(d, out);
    for (int j = 0; j < kQBlock / 2; ++j) {
      const int q0 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j] * id + 8.5f)));
      const int q1 = std::min(15, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 8.5f)));
      out[2 + j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
  }
}

void QuantizeRowF16(const float* x, int64_t n, uint8_t* out) {
  for (int64_t i = 0; i < n; ++i) StoreHalf(x[i], out + 2 * i);
}

void QuantizeRow(WeightType t, const float* x, int64_t n, uint8_t* out) {
  switch (t) {
    case WeightType::kF32: std::memcpy(out, x, static_cast<size_t>(n) * 4); return;
    case WeightType::kF16: QuantizeRowF16(x, n, out); return;
    case WeightType::kQ8_0: QuantizeRowQ8_0(x, n, out); return;
    case WeightType::kQ4_0: QuantizeRowQ4_0(x, n, out); return;
  }
}

void DequantizeRowReference(WeightType t, const uint8_t* row, int64_t n, float* out) {
  switch (t) {
    case WeightType::kF32:
      std::memcpy(out, row, static_cast<size_t>(n) * 4);
      return;
    case WeightType::kF16:
      for (int64_t i = 0; i < n; ++i) out[i] = LoadHalf(row + 2 * i);
      return;
    case WeightType::kQ8_0:
      for (int64_t b = 0; b < n / kQBlock; ++b) {
        const uint8_t* p = row + b * kQ8_0Bytes;
        const float d = LoadHalf(p);
        for (int j = 0; j < kQBlock; ++j) out[b * kQBlock + j] = d * static_cast<int8_t>(p[2 + j]);
      }
      return;
    case WeightType::kQ4_0:
      for (int64_t b = 0; b < n / kQBlock; ++b) {
        const uint8_t* p = row + b * kQ4_0Bytes;
        const float d = LoadHalf(p);
        for (int j = 0; j < kQBlock / 2; ++j) {
          out[b * kQBlock + j] = d * ((p[2 + j] & 0x0F) - 8);
          out[b * kQBlock + j + 16] = d * ((p[2 + j] >> 4) - 8);
        }
      }
      return;
  }
}

void DequantizeRow(WeightType t, const uint8_t* row, int64_t n, float* out) {
#if defined(__x86_64__)
  if (HaveAvx2()) return DequantizeAvx2(t, row, n, out);
#endif
  DequantizeRowReference(t, row, n, out);
}

float DotRowReference(WeightType t, const uint8_t* w, const void* xv, int64_t n) {
  if (t == WeightType::kF16 || t == WeightType::kF32) {
    const float* x = static_cast<const float*>(xv);
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
      s += double(t == WeightType::kF16 ? LoadHalf(w + 2 * i)
                                        : reinterpret_cast<const float*>(w)[i]) * x[i];
    return static_cast<float>(s);
  }
  const uint8_t* x = static_cast<const uint8_t*>(xv);
  float s = 0;
  for (int64_t b = 0; b < n / kQBlock; ++b) {
    const uint8_t* xb = x + b * kQ8_0Bytes;
    int32_t acc = 0;
    if (t == WeightType::kQ8_0) {
      const uint8_t* wb = w + b * kQ8_0Bytes;
      for (int j = 0; j < kQBlock; ++j)
        acc += static_cast<int8_t>(wb[2 + j]) * static_cast<int8_t>(xb[2 + j]);
      s += LoadHalf(wb) * LoadHalf(xb) * static_cast<float>(acc);
    } else {
      const uint8_t* wb = w + b * kQ4_0Bytes;
      for (int j = 0; j < kQBlock / 2; ++j) {
        acc += ((wb[2 + j] & 0x0F) - 8) * static_cast<int8_t>(xb[2 + j]);
        acc += ((wb[2 + j] >> 4) - 8) * static_cast<int8_t>(xb[2 + j + 16]);
      }
      s += LoadHalf(wb) * LoadHalf(xb) * static_cast<float>(acc);
    }
  }
  return s;
}

float DotRow(WeightType t, const uint8_t* w, const void* x, int64_t n) {
#if defined(__x86_64__)
  if (HaveVnni()) {
    switch (t) {
      case WeightType::kQ8_0: return DotQ8Vnni(w, static_cast<const uint8_t*>(x), n);
      case WeightType::kQ4_0: return DotQ4Vnni(w, static_cast<const uint8_t*>(x), n);
      default: break;
    }
  }
#endif
  return DotRowWithoutVnni(t, w, x, n);
}

float DotRowWithoutVnni(WeightType t, const uint8_t* w, const void* x, int64_t n) {
#if defined(__x86_64__)
  if (HaveAvx2()) {
    switch (t) {
      case WeightType::kQ8_0: return DotQ8Avx2(w, static_cast<const uint8_t*>(x), n);
      case WeightType::kQ4_0: return DotQ4Avx2(w, static_cast<const uint8_t*>(x), n);
      case WeightType::kF16: return DotF16Avx2(w, static_cast<const float*>(x), n);
      default: break;
    }
  }
#endif
  return DotRowReference(t, w, x, n);
}

}  // namespace loom::phi
