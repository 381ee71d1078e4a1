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
}

}  // namespace
}  // namespace loom::w2v
