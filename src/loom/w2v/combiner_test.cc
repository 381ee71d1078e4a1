#include <gtest/gtest.h>

#include <cmath>

#include "loom/w2v/combiner.h"

namespace loom::w2v {
namespace {

// Adasum is checked end to end in w2v_dist_test (the adasum module's allreduce against
// adasum::TreeReference); here the two local combiners.
TEST(Combiner, LoneDeltaAverageDividesByPSumKeepsIt) {
  std::vector<float> g = {1, -2, 3};
  std::vector<const float*> d = {nullptr, g.data(), nullptr, nullptr};
  std::vector<float> out(3);
  CombineRow(Combiner::kSum, d, 3, out.data());
  EXPECT_EQ(out, g);
  CombineRow(Combiner::kAverage, d, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{0.25f, -0.5f, 0.75f}));
}

TEST(Combiner, SumAddsAverageDividesTheSum) {
  std::vector<float> a = {1, 2, 0}, b = {0, 0, 5}, out(3);
  CombineRow(Combiner::kSum, {a.data(), a.data(), a.data()}, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{3, 6, 0}));
  CombineRow(Combiner::kAverage, {a.data(), b.data()}, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{0.5f, 1, 2.5f}));
  EXPECT_EQ(ParseCombiner("median").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseCombiner("adasum"), Combiner::kAdasum);
  EXPECT_EQ(*ParseCombiner("avg"), Combiner::kAverage);
  EXPECT_EQ(*ParseCombiner("touched-average"), Combiner::kTouchedAverage);
  EXPECT_EQ(CombinerName(Combiner::kTouchedAverage), "touched-average");
}

// Touched-average against its definition: rows touched by disjoint ranks equal the sum (a lone
// delta is kept whole), identical deltas equal each one, k of P touching divide by k.
TEST(Combiner, TouchedAverageDividesByTheRanksThatTouchedTheRow) {
  std::vector<float> a = {1, -2, 4}, b = {3, 6, -8}, out(3), sum(3);
  for (size_t p : {1u, 2u, 5u}) {
    for (size_t r = 0; r < p; ++r) {
      std::vector<const float*> lone(p, nullptr);
      lone[r] = a.data();
      CombineRow(Combiner::kTouchedAverage, lone, 3, out.data());
      CombineRow(Combiner::kSum, lone, 3, sum.data());
      EXPECT_EQ(out, a) << "p=" << p << " r=" << r;
      EXPECT_EQ(out, sum);
    }
    std::vector<const float*> all(p, a.data());
    CombineRow(Combiner::kTouchedAverage, all, 3, out.data());
    for (size_t i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(out[i], a[i]) << "p=" << p;
  }
  CombineRow(Combiner::kTouchedAverage, {nullptr, a.data(), nullptr, b.data()}, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{2, 2, -2}));  // (a + b) / 2, not / 4
  CombineRow(Combiner::kAverage, {nullptr, a.data(), nullptr, b.data()}, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 1, -1}));
  CombineRow(Combiner::kTouchedAverage, {nullptr, nullptr}, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{0, 0, 0}));
}

}  // namespace
}  // namespace loom::w2v
