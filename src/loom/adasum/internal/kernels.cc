// Adasum kernels (kernels.h): GCC/Clang vector extensions, compiled twice (portable and
// AVX2+FMA+F16C) from the same always-inline bodies; Dispatch() picks one per process.
#include "loom/adasum/internal/kernels.h"

#include <atomic>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "loom/base/cpu.h"
#include "loom/base/half.h"

// The 32-byte vector helpers are always inlined, so no vector crosses a call boundary and the
// ABI note GCC gives for them in the portable build does not apply.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

namespace loom::adasum::internal {

using comm::DataType;

namespace {

typedef double V4d __attribute__((vector_size(32)));
typedef float V4f __attribute__((vector_size(16)));

#define LOOM_INLINE inline __attribute__((always_inline))

// Unaligned (4-byte aligned) vector views, so loads fold into the converting instruction.
typedef float V4fu __attribute__((vector_size(16), aligned(4)));
typedef double V4du __attribute__((vector_size(32), aligned(8)));

LOOM_INLINE V4d Widen(const float* p) {
  return __builtin_convertvector(*reinterpret_cast<const V4fu*>(p), V4d);
}
LOOM_INLINE V4d Widen(const double* p) { return *reinterpret_cast<const V4du*>(p); }

// The scalar tail past the last full vector step.
template <typename T>
LOOM_INLINE Stats ScalarDots(const T* x, const T* y, size_t n) {
  Stats s;
  for (size_t i = 0; i < n; ++i) {
    double u = x[i], v = y[i];
    s.dot += u * v;
    s.aa += u * u;
    s.bb += v * v;
  }
  return s;
}

// (v0 + v1) with `tail` added to lane 0, then the lanes in a fixed order.
LOOM_INLINE double Sum(V4d v0, V4d v1, double tail) {
  V4d v = v0 + v1;
  return (v[0] + tail + v[1]) + (v[2] + v[3]);
}

// Eight double lanes per quantity (two vectors), a scalar tail, then Sum().
template <typename T>
LOOM_INLINE Stats DotsBody(const T* x, const T* y, size_t n) {
  V4d d0 = {0, 0, 0, 0}, d1 = d0, p0 = d0, p1 = d0, q0 = d0, q1 = d0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    V4d u0 = Widen(x + i), u1 = Widen(x + i + 4), v0 = Widen(y + i), v1 = Widen(y + i + 4);
    d0 += u0 * v0;
    d1 += u1 * v1;
    p0 += u0 * u0;
    p1 += u1 * u1;
    q0 += v0 * v0;
    q1 += v1 * v1;
  }
  const Stats tail = ScalarDots(x + i, y + i, n - i);
  return {Sum(d0, d1, tail.dot), Sum(p0, p1, tail.aa), Sum(q0, q1, tail.bb)};
}

template <typename T>
LOOM_INLINE void ScaledAddBody(T* x, double ca, const T* y, double cb, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<T>(ca * x[i] + cb * y[i]);
}

LOOM_INLINE void ScaledAddFloat(float* x, float ca, const float* y, float cb, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = ca * x[i] + cb * y[i];
}

// 16-bit types go through float blocks on the stack.
constexpr size_t kBlock = 256;

template <bool kHalf>
LOOM_INLINE void ToFloatPortable(const uint16_t* h, float* f, size_t n) {
  for (size_t i = 0; i < n; ++i)
    f[i] = kHalf ? HalfToFloat(Half{h[i]}) : BFloat16ToFloat(BFloat16{h[i]});
}

template <bool kHalf>
LOOM_INLINE void FromFloatPortable(const float* f, uint16_t* h, size_t n) {
  for (size_t i = 0; i < n; ++i)
    h[i] = kHalf ? FloatToHalf(f[i]).bits : FloatToBFloat16(f[i]).bits;
}

template <typename ToFloat, typename DotsF32>
LOOM_INLINE Stats Dots16Body(const uint16_t* x, const uint16_t* y, size_t n, ToFloat to_float,
                             DotsF32 dots) {
  alignas(32) float fx[kBlock], fy[kBlock];
  Stats s;
  for (size_t b = 0; b < n; b += kBlock) {
    size_t m = n - b < kBlock ? n - b : kBlock;
    to_float(x + b, fx, m);
    to_float(y + b, fy, m);
    Stats t = dots(fx, fy, m);
    s.dot += t.dot;
    s.aa += t.aa;
    s.bb += t.bb;
  }
  return s;
}

template <typename ToFloat, typename FromFloat>
LOOM_INLINE void ScaledAdd16Body(uint16_t* x, float ca, const uint16_t* y, float cb, size_t n,
                                 ToFloat to_float, FromFloat from_float) {
  alignas(32) float fx[kBlock], fy[kBlock];
  for (size_t b = 0; b < n; b += kBlock) {
    size_t m = n - b < kBlock ? n - b : kBlock;
    to_float(x + b, fx, m);
    to_float(y + b, fy, m);
    ScaledAddFloat(fx, ca, fy, cb, m);
    from_float(fx, x + b, m);
  }
}

// The kernel set of one build.
struct Kernels {
  Stats (*dots_f32)(const float*, const float*, size_t);
  Stats (*dots_f64)(const double*, const double*, size_t);
  Stats (*dots_f16)(const uint16_t*, const uint16_t*, size_t);
  Stats (*dots_bf16)(const uint16_t*, const uint16_t*, size_t);
  void (*scaled_f32)(float*, double, const float*, double, size_t);
  void (*scaled_f64)(double*, double, const double*, double, size_t);
  void (*scaled_f16)(uint16_t*, float, const uint16_t*, float, size_t);
  void (*scaled_bf16)(uint16_t*, float, const uint16_t*, float, size_t);
};

namespace portable {
Stats DotsF32(const float* x, const float* y, size_t n) { return DotsBody(x, y, n); }
Stats DotsF64(const double* x, const double* y, size_t n) { return DotsBody(x, y, n); }
Stats DotsF16(const uint16_t* x, const uint16_t* y, size_t n) { return Dots16Body(x, y, n, ToFloatPortable<true>, DotsF32); }
Stats DotsBf16(const uint16_t* x, const uint16_t* y, size_t n) { return Dots16Body(x, y, n, ToFloatPortable<false>, DotsF32); }
void ScaledF32(float* x, double a, const float* y, double b, size_t n) { ScaledAddBody(x, a, y, b, n); }
void ScaledF64(double* x, double a, const double* y, double b, size_t n) { ScaledAddBody(x, a, y, b, n); }
void ScaledF16(uint16_t* x, float a, const uint16_t* y, float b, size_t n) {
  ScaledAdd16Body(x, a, y, b, n, ToFloatPortable<true>, FromFloatPortable<true>);
}
void ScaledBf16(uint16_t* x, float a, const uint16_t* y, float b, size_t n) {
  ScaledAdd16Body(x, a, y, b, n, ToFloatPortable<false>, FromFloatPortable<false>);
}
const Kernels kKernels = {DotsF32, DotsF64, DotsF16, DotsBf16, ScaledF32, ScaledF64, ScaledF16, ScaledBf16};
}  // namespace portable

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LOOM_ADASUM_X86 1
namespace avx2 {
#define LOOM_AVX2 __attribute__((target("avx2,fma,f16c")))
// F16C: hardware half <-> float, round to nearest even like FloatToHalf (NaN payloads may
// differ); bfloat16 stays portable (the widening is a shift, which vectorises anyway).
LOOM_AVX2 void HalfToFloatF16c(const uint16_t* h, float* f, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i));
    _mm256_storeu_ps(f + i, _mm256_cvtph_ps(v));
  }
  ToFloatPortable<true>(h + i, f + i, n - i);
}
LOOM_AVX2 void FloatToHalfF16c(const float* f, uint16_t* h, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i r = _mm256_cvtps_ph(_mm256_loadu_ps(f + i), _MM_FROUND_TO_NEAREST_INT);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(h + i), r);
  }
  FromFloatPortable<true>(f + i, h + i, n - i);
}
// Software prefetch 4 KiB ahead on both operands. The f32 kernels convert every element to
// double, so the out-of-order window holds fewer cache lines in flight than a plain sum's loop
// does, and on tensors that stream from memory they ran 15-25 % slower than the sum's reduce
// (docs/benchmarks.md, G8); prefetching brings them to its speed. Only a hint: results are
// unchanged, and a prefetch past the end of a buffer never faults (the address is formed as an
// integer, so no out-of-range pointer arithmetic either).
constexpr uintptr_t kPrefetchAheadBytes = 4096;
LOOM_INLINE void Prefetch(const float* x, const float* y) {
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(x) + kPrefetchAheadBytes));
  __builtin_prefetch(reinterpret_cast<const void*>(reinterpret_cast<uintptr_t>(y) + kPrefetchAheadBytes));
}
// Intrinsics for f32 because GCC lowers the generic float->double vector conversion to
// half-width pieces (2-3x slower); same lanes and combine order as DotsBody.
// (v0 + v1) with `tail` added to lane 0, then the lanes combined as Sum() does.
LOOM_AVX2 inline double SumLanes(__m256d v0, __m256d v1, double tail) {
  alignas(32) double l[4];
  _mm256_store_pd(l, _mm256_add_pd(v0, v1));
  return (l[0] + tail + l[1]) + (l[2] + l[3]);
}
// Eight elements into the six accumulators (two lanes of 4 per quantity, as DotsBody).
struct DotLanes {
  __m256d d0, d1, p0, p1, q0, q1;
};
LOOM_AVX2 LOOM_INLINE void DotStep(const float* x, const float* y, DotLanes& l) {
  __m256d u0 = _mm256_cvtps_pd(_mm_loadu_ps(x)), u1 = _mm256_cvtps_pd(_mm_loadu_ps(x + 4));
  __m256d v0 = _mm256_cvtps_pd(_mm_loadu_ps(y)), v1 = _mm256_cvtps_pd(_mm_loadu_ps(y + 4));
  l.d0 = _mm256_fmadd_pd(u0, v0, l.d0);
  l.d1 = _mm256_fmadd_pd(u1, v1, l.d1);
  l.p0 = _mm256_fmadd_pd(u0, u0, l.p0);
  l.p1 = _mm256_fmadd_pd(u1, u1, l.p1);
  l.q0 = _mm256_fmadd_pd(v0, v0, l.q0);
  l.q1 = _mm256_fmadd_pd(v1, v1, l.q1);
}
LOOM_AVX2 Stats DotsF32(const float* x, const float* y, size_t n) {
  const __m256d z = _mm256_setzero_pd();
  DotLanes l = {z, z, z, z, z, z};
  size_t i = 0;
  // Two 8-element steps per 64-byte line of each operand, one prefetch each (a prefetch per
  // step cost 6 % on L2-resident halves); the same steps in the same order as one at a time.
  for (; i + 16 <= n; i += 16) {
    Prefetch(x + i, y + i);
    DotStep(x + i, y + i, l);
    DotStep(x + i + 8, y + i + 8, l);
  }
  for (; i + 8 <= n; i += 8) DotStep(x + i, y + i, l);
  const Stats tail = ScalarDots(x + i, y + i, n - i);
  return {SumLanes(l.d0, l.d1, tail.dot), SumLanes(l.p0, l.p1, tail.aa),
          SumLanes(l.q0, l.q1, tail.bb)};
}
LOOM_AVX2 Stats DotsF64(const double* x, const double* y, size_t n) { return DotsBody(x, y, n); }
LOOM_AVX2 Stats DotsF16(const uint16_t* x, const uint16_t* y, size_t n) { return Dots16Body(x, y, n, HalfToFloatF16c, DotsF32); }
LOOM_AVX2 Stats DotsBf16(const uint16_t* x, const uint16_t* y, size_t n) { return Dots16Body(x, y, n, ToFloatPortable<false>, DotsF32); }
// x[0..4) = a·x + b·y in double, rounded once.
LOOM_AVX2 LOOM_INLINE void ScaledStep(float* x, __m256d va, const float* y, __m256d vb) {
  __m256d u = _mm256_cvtps_pd(_mm_loadu_ps(x)), v = _mm256_cvtps_pd(_mm_loadu_ps(y));
  _mm_storeu_ps(x, _mm256_cvtpd_ps(_mm256_fmadd_pd(va, u, _mm256_mul_pd(vb, v))));
}
LOOM_AVX2 void ScaledF32(float* x, double a, const float* y, double b, size_t n) {
  const __m256d va = _mm256_set1_pd(a), vb = _mm256_set1_pd(b);
  size_t i = 0;
  // One prefetch per 64-byte line of each operand: a prefetch every 4 elements made the loop
  // 20 % slower on L2-resident halves (128K floats: 23 -> 18.5 us on the AMD EPYC guest).
  for (; i + 16 <= n; i += 16) {
    Prefetch(x + i, y + i);
    for (size_t k = 0; k < 16; k += 4) ScaledStep(x + i + k, va, y + i + k, vb);
  }
  for (; i + 4 <= n; i += 4) ScaledStep(x + i, va, y + i, vb);
  ScaledAddBody(x + i, a, y + i, b, n - i);
}
LOOM_AVX2 void ScaledF64(double* x, double a, const double* y, double b, size_t n) { ScaledAddBody(x, a, y, b, n); }
LOOM_AVX2 void ScaledF16(uint16_t* x, float a, const uint16_t* y, float b, size_t n) {
  ScaledAdd16Body(x, a, y, b, n, HalfToFloatF16c, FloatToHalfF16c);
}
LOOM_AVX2 void ScaledBf16(uint16_t* x, float a, const uint16_t* y, float b, size_t n) {
  ScaledAdd16Body(x, a, y, b, n, ToFloatPortable<false>, FromFloatPortable<false>);
}
const Kernels kKernels = {DotsF32, DotsF64, DotsF16, DotsBf16, ScaledF32, ScaledF64, ScaledF16, ScaledBf16};
}  // namespace avx2
#endif

// The build in use: the widest the CPU runs, unless a test forced one (SetKernelBuild).
std::atomic<int> forced_build{-1};

const Kernels& Dispatch() {
#ifdef LOOM_ADASUM_X86
  int f = forced_build.load(std::memory_order_relaxed);
  if (f == static_cast<int>(KernelBuild::kAvx2) || (f < 0 && CpuHasAvx2())) return avx2::kKernels;
#endif
  return portable::kKernels;
}

template <typename T>
const T* As(const std::byte* p) { return reinterpret_cast<const T*>(p); }
template <typename T>
T* As(std::byte* p) { return reinterpret_cast<T*>(p); }

}  // namespace

bool CpuHasAvx2() {
#ifdef LOOM_ADASUM_X86
  static const bool has =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && CpuHasF16c();
  return has;
#else
  return false;
#endif
}

bool SetKernelBuild(KernelBuild build) {
  if (build == KernelBuild::kAvx2 && !CpuHasAvx2()) return false;
  forced_build.store(static_cast<int>(build), std::memory_order_relaxed);
  return true;
}

Stats Dots(DataType t, const std::byte* a, const std::byte* b, size_t n) {
  const Kernels& k = Dispatch();
  switch (t) {
    case DataType::kF32: return k.dots_f32(As<float>(a), As<float>(b), n);
    case DataType::kF64: return k.dots_f64(As<double>(a), As<double>(b), n);
    case DataType::kF16: return k.dots_f16(As<uint16_t>(a), As<uint16_t>(b), n);
    case DataType::kBF16: return k.dots_bf16(As<uint16_t>(a), As<uint16_t>(b), n);
    default: return {};
  }
}

void ScaledAdd(DataType t, std::byte* a, double ca, const std::byte* b, double cb, size_t n) {
  const Kernels& k = Dispatch();
  const float fa = static_cast<float>(ca), fb = static_cast<float>(cb);
  switch (t) {
    case DataType::kF32: k.scaled_f32(As<float>(a), ca, As<float>(b), cb, n); break;
    case DataType::kF64: k.scaled_f64(As<double>(a), ca, As<double>(b), cb, n); break;
    case DataType::kF16: k.scaled_f16(As<uint16_t>(a), fa, As<uint16_t>(b), fb, n); break;
    case DataType::kBF16: k.scaled_bf16(As<uint16_t>(a), fa, As<uint16_t>(b), fb, n); break;
    default: break;
  }
}

}  // namespace loom::adasum::internal
