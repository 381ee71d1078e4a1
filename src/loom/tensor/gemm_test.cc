#include "loom/tensor/gemm.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "loom/base/random.h"
#include "loom/tensor/vector_ops.h"

namespace loom::tensor {
namespace {

std::vector<float> RandomVector(Prng& rng, size_t n) {
  std::vector<float> v(n);
  for (auto& x : v) x = static_cast<float>(rng.UniformDouble() * 2 - 1);
  return v;
}

TEST(GemmTest, MatchesReferenceForAllTransposesAndOddShapes) {
  Prng rng(11);
  for (auto ta : {Transpose::kNo, Transpose::kYes}) {
    for (auto tb : {Transpose::kNo, Transpose::kYes}) {
      for (auto [m, n, k] : {std::tuple{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {64, 1, 100}, {2, 50, 0}}) {
        int lda = (ta == Transpose::kNo ? k : m) + 3;  // padded leading dimensions
        int ldb = (tb == Transpose::kNo ? n : k) + 2;
        int ldc = n + 1;
        auto a = RandomVector(rng, static_cast<size_t>((ta == Transpose::kNo ? m : k) * lda));
        auto b = RandomVector(rng, static_cast<size_t>((tb == Transpose::kNo ? k : n) * ldb));
        auto c = RandomVector(rng, static_cast<size_t>(m * ldc));
        auto ref = c;
        Gemm(ta, tb, m, n, k, 0.75f, a.data(), lda, b.data(), ldb, 0.5f, c.data(), ldc);
        GemmReference(ta, tb, m, n, k, 0.75f, a.data(), lda, b.data(), ldb, 0.5f, ref.data(), ldc);
        for (int i = 0; i < m; ++i)
          for (int j = 0; j < n; ++j)
            ASSERT_NEAR(c[i * ldc + j], ref[i * ldc + j], 1e-4f * (1 + k))
                << m << "x" << n << "x" << k << " at " << i << "," << j;
      }
    }
  }
}

TEST(VectorOpsTest, DotAxpyScaleMatchScalarDoubleReference) {
  Prng rng(12);
  for (size_t n : {0u, 1u, 3u, 4u, 5u, 100u, 1023u}) {
    auto a = RandomVector(rng, n), b = RandomVector(rng, n);
    double ref = 0;
    for (size_t i = 0; i < n; ++i) ref += static_cast<double>(a[i]) * b[i];
    EXPECT_NEAR(Dot(a.data(), b.data(), n), ref, 1e-5 * (1 + n));
    auto y = b;
    Axpy(0.3f, a.data(), y.data(), n);
    for (size_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(y[i], b[i] + 0.3f * a[i]);
    Scale(2.0f, y.data(), n);
    for (size_t i = 0; i < n; ++i) ASSERT_FLOAT_EQ(y[i], 2.0f * (b[i] + 0.3f * a[i]));
  }
}

}  // namespace
}  // namespace loom::tensor

namespace loom::tensor {
namespace {

TEST(BlasCoreTest, OverrideOnlyReplacesGenericKernels) {
  EXPECT_FALSE(BlasCoreName().empty());
  const char* saved = std::getenv("OPENBLAS_CORETYPE");
  const std::string keep = saved ? saved : "";
  setenv("OPENBLAS_CORETYPE", "Haswell", 1);
  EXPECT_EQ(PreferredBlasCore(), "") << "a user's choice is kept";
  unsetenv("OPENBLAS_CORETYPE");
  const std::string preferred = PreferredBlasCore();
  if (!preferred.empty()) {
    // Only a generic fallback is overridden, and only with a family this CPU can run.
    EXPECT_THAT(BlasCoreName(), ::testing::AnyOf("Prescott", "Core2", "Penryn", "Dunnington",
                                                 "Nehalem", "Atom", "Katmai", "Coppermine",
                                                 "Northwood", "Banias"));
    EXPECT_TRUE(preferred == "SkylakeX" ? __builtin_cpu_supports("avx512f")
                                        : __builtin_cpu_supports("avx2"));
  }
  if (saved) setenv("OPENBLAS_CORETYPE", keep.c_str(), 1);
}

}  // namespace
}  // namespace loom::tensor
