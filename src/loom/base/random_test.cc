#include "loom/base/random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace loom {
namespace {

TEST(PrngTest, SameSeedSameStreamDifferentSeedDifferentStream) {
  Prng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(PrngTest, UniformIsInRangeAndUnbiased) {
  Prng rng(7);
  constexpr int kBuckets = 10;
  std::vector<int> counts(kBuckets);
  constexpr int kDraws = 200000;
  for (int i = 0; i < kDraws; ++i) {
    uint64_t v = rng.Uniform(kBuckets);
    ASSERT_LT(v, static_cast<uint64_t>(kBuckets));
    ++counts[v];
  }
  for (int c : counts) EXPECT_NEAR(c, kDraws / kBuckets, 600);  // ~4.5 sigma
  for (int i = 0; i < 1000; ++i) {
    double d = rng.UniformDouble();
    ASSERT_GE(d, 0.0);
    ASSERT_LT(d, 1.0);
  }
}

TEST(PrngTest, NormalHasUnitMoments) {
  Prng rng(1);
  double sum = 0, sq = 0;
  constexpr int kN = 100000;
  for (int i = 0; i < kN; ++i) {
    double x = rng.Normal();
    sum += x;
    sq += x * x;
  }
  EXPECT_NEAR(sum / kN, 0.0, 0.02);
  EXPECT_NEAR(sq / kN, 1.0, 0.02);
}

TEST(PrngTest, ForksAreDistinctAndReproducible) {
  Prng base(5);
  Prng f0 = base.Fork(0), f1 = base.Fork(1), f0b = base.Fork(0);
  uint64_t a = f0.Next();
  EXPECT_EQ(a, f0b.Next());
  EXPECT_NE(a, f1.Next());
}

}  // namespace
}  // namespace loom
