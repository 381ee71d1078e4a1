// Adasum's kernels (internal/kernels.h), every build this CPU runs, against plain loops: dots
// and norms against a long double sum, the scaled add against the scalar formula (f32/f64 in
// double, f16/bf16 in float, rounded once), at lengths around the vector widths and blocks.
#include "loom/adasum/internal/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "loom/base/half.h"
#include "loom/base/random.h"

namespace loom::adasum::internal {
namespace {

using comm::DataType;

constexpr DataType kTypes[] = {DataType::kF32, DataType::kF64, DataType::kF16, DataType::kBF16};
constexpr size_t kLengths[] = {0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 255, 256, 257, 1000, 4099};

// Values rounded to the dtype, stored in it and returned as double.
std::vector<double> Fill(DataType t, size_t n, Prng& rng, std::vector<std::byte>& out) {
  std::vector<double> v(n);
  out.assign(n * comm::DataTypeSize(t), std::byte{0});
  for (size_t i = 0; i < n; ++i) {
    float f = static_cast<float>(rng.Normal());
    switch (t) {
      case DataType::kF32: std::memcpy(&out[4 * i], &f, 4); v[i] = f; break;
      case DataType::kF64: { double d = rng.Normal(); std::memcpy(&out[8 * i], &d, 8); v[i] = d; break; }
      case DataType::kF16: { Half h = FloatToHalf(f); std::memcpy(&out[2 * i], &h.bits, 2); v[i] = HalfToFloat(h); break; }
      case DataType::kBF16: { BFloat16 h = FloatToBFloat16(f); std::memcpy(&out[2 * i], &h.bits, 2); v[i] = BFloat16ToFloat(h); break; }
      default: break;
    }
  }
  return v;
}

double Get(DataType t, const std::vector<std::byte>& b, size_t i) {
  switch (t) {
    case DataType::kF32: { float f; std::memcpy(&f, &b[4 * i], 4); return f; }
    case DataType::kF64: { double d; std::memcpy(&d, &b[8 * i], 8); return d; }
    case DataType::kF16: { uint16_t h; std::memcpy(&h, &b[2 * i], 2); return HalfToFloat(Half{h}); }
    case DataType::kBF16: { uint16_t h; std::memcpy(&h, &b[2 * i], 2); return BFloat16ToFloat(BFloat16{h}); }
    default: return 0;
  }
}

// The scalar formula of kernels.h for one element.
double ScaledRef(DataType t, double x, double ca, double y, double cb) {
  switch (t) {
    case DataType::kF32: return static_cast<float>(ca * x + cb * y);
    case DataType::kF64: return ca * x + cb * y;
    case DataType::kF16: {
      float r = static_cast<float>(ca) * static_cast<float>(x) + static_cast<float>(cb) * static_cast<float>(y);
      return HalfToFloat(FloatToHalf(r));
    }
    case DataType::kBF16: {
      float r = static_cast<float>(ca) * static_cast<float>(x) + static_cast<float>(cb) * static_cast<float>(y);
      return BFloat16ToFloat(FloatToBFloat16(r));
    }
    default: return 0;
  }
}

// One unit in the last place of `t` at |v|.
double Ulp(DataType t, double v) {
  int bits = t == DataType::kF64 ? 52 : t == DataType::kF32 ? 23 : t == DataType::kF16 ? 10 : 7;
  int e;
  std::frexp(std::max(std::abs(v), 1e-30), &e);
  return std::ldexp(1.0, e - 1 - bits);
}

void CheckBuild(KernelBuild build) {
  Prng rng(static_cast<uint64_t>(build) + 7);
  for (DataType t : kTypes) {
    for (size_t n : kLengths) {
      std::vector<std::byte> a, b;
      std::vector<double> x = Fill(t, n, rng, a), y = Fill(t, n, rng, b);
      long double d = 0, p = 0, q = 0;
      for (size_t i = 0; i < n; ++i) {
        d += static_cast<long double>(x[i]) * y[i];
        p += static_cast<long double>(x[i]) * x[i];
        q += static_cast<long double>(y[i]) * y[i];
      }
      Stats s = Dots(t, a.data(), b.data(), n);
      const double tol = 1e-13 * static_cast<double>(p + q) + 1e-300;
      EXPECT_NEAR(s.dot, static_cast<double>(d), tol) << comm::DataTypeName(t) << " n=" << n;
      EXPECT_NEAR(s.aa, static_cast<double>(p), tol) << comm::DataTypeName(t) << " n=" << n;
      EXPECT_NEAR(s.bb, static_cast<double>(q), tol) << comm::DataTypeName(t) << " n=" << n;
      const double ca = 0.7310584, cb = 1.2689416;
      ScaledAdd(t, a.data(), ca, b.data(), cb, n);
      for (size_t i = 0; i < n; ++i) {
        double want = ScaledRef(t, x[i], ca, y[i], cb);
        // One ulp of the result, plus the working precision's rounding of the products
        // (a fused multiply-add differs there when the two terms cancel).
        const DataType work = t == DataType::kF64 || t == DataType::kF32 ? DataType::kF64 : DataType::kF32;
        const double terms = std::abs(ca * x[i]) + std::abs(cb * y[i]);
        ASSERT_LE(std::abs(Get(t, a, i) - want), Ulp(t, want) + 2 * Ulp(work, terms))
            << comm::DataTypeName(t) << " n=" << n << " i=" << i;
      }
    }
  }
}

TEST(AdasumKernels, PortableBuildMatchesPlainLoops) {
  ASSERT_TRUE(SetKernelBuild(KernelBuild::kPortable));
  CheckBuild(KernelBuild::kPortable);
}

TEST(AdasumKernels, Avx2BuildMatchesPlainLoops) {
  if (!SetKernelBuild(KernelBuild::kAvx2)) GTEST_SKIP() << "this CPU has no AVX2+FMA+F16C";
  CheckBuild(KernelBuild::kAvx2);
  SetKernelBuild(KernelBuild::kPortable);
}

TEST(AdasumKernels, BothBuildsGiveTheSameDots) {
  // Same lanes and combine order: equal up to FMA rounding of the products.
  if (!CpuHasAvx2()) GTEST_SKIP() << "this CPU has no AVX2+FMA+F16C";
  Prng rng(99);
  std::vector<std::byte> a, b;
  Fill(DataType::kF32, 1003, rng, a);
  Fill(DataType::kF32, 1003, rng, b);
  SetKernelBuild(KernelBuild::kPortable);
  Stats s1 = Dots(DataType::kF32, a.data(), b.data(), 1003);
  SetKernelBuild(KernelBuild::kAvx2);
  Stats s2 = Dots(DataType::kF32, a.data(), b.data(), 1003);
  EXPECT_NEAR(s1.dot, s2.dot, 1e-12 * s1.aa);
  EXPECT_NEAR(s1.aa, s2.aa, 1e-12 * s1.aa);
}

}  // namespace
}  // namespace loom::adasum::internal
