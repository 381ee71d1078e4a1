#include <gtest/gtest.h>

#include <cmath>

#include "loom/w2v/combiner.h"

namespace loom::w2v {
namespace {

TEST(Combiner, LoneDeltaAverageDividesByPAdasumAndSumKeepIt) {
  std::vector<float> g = {1, -2, 3};
  std::vector<const float*> d = {nullptr, g.data(), nullptr, nullptr};
  std::vector<float> out(3);
  CombineRow(Combiner::kAdasum, d, 3, out.data());
  EXPECT_EQ(out, g);
  CombineRow(Combiner::kSum, d, 3, out.data());
  EXPECT_EQ(out, g);
  CombineRow(Combiner::kAverage, d, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{0.25f, -0.5f, 0.75f}));
}

TEST(Combiner, AdasumAveragesIdenticalAndAddsOrthogonalDeltas) {
  std::vector<float> a = {1, 2, 0}, b = {0, 0, 5}, out(3);
  CombineRow(Combiner::kAdasum, {a.data(), a.data()}, 3, out.data());
  for (int i = 0; i < 3; ++i) EXPECT_FLOAT_EQ(out[i], a[i]);
  CombineRow(Combiner::kAdasum, {a.data(), b.data()}, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{1, 2, 5}));
  CombineRow(Combiner::kSum, {a.data(), a.data(), a.data()}, 3, out.data());
  EXPECT_EQ(out, (std::vector<float>{3, 6, 0}));
  // Hand-computed: a = (1, 0), c = (1, 1): a.c = 1, |a|^2 = 1, |c|^2 = 2;
  // (1 - 1/2) a + (1 - 1/4) c = (0.5 + 0.75, 0.75).
  std::vector<float> x = {1, 0}, c = {1, 1}, o2(2);
  CombineRow(Combiner::kAdasum, {x.data(), c.data()}, 2, o2.data());
  EXPECT_FLOAT_EQ(o2[0], 1.25f);
  EXPECT_FLOAT_EQ(o2[1], 0.75f);
  // Three ranks: the tree is Adasum(Adasum(r0, r1), r2).
  CombineRow(Combiner::kAdasum, {x.data(), nullptr, c.data()}, 2, o2.data());
  EXPECT_FLOAT_EQ(o2[0], 1.25f);
  EXPECT_EQ(ParseCombiner("median").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(*ParseCombiner("adasum"), Combiner::kAdasum);
}

}  // namespace
}  // namespace loom::w2v
