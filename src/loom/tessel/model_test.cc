#include <gtest/gtest.h>

#include "loom/tessel/analysis.h"
#include "loom/tessel/model.h"
#include "loom/tessel/placements.h"

namespace loom::tessel {
namespace {

TEST(Placement, EveryLibraryPlacementValidatesForSeveralSizes) {
  for (const std::string& name : PlacementNames())
    for (int n : {2, 4, 8}) {
      PlacementOptions o;
      o.devices = n;
      for (bool split : {false, true}) {
        o.split_w = split;
        auto p = MakePlacement(name, o);
        ASSERT_TRUE(p.ok()) << name << " n=" << n << ": " << p.status();
        auto a = Analyze(*p);
        ASSERT_TRUE(a.ok()) << a.status();
        // Every block appears once in the topological order.
        EXPECT_EQ(a->topo.size(), p->blocks.size());
      }
    }
}

TEST(Placement, VShapeHasTessel1F1BStructureAndBounds) {
  PlacementOptions o;  // F = 1, B = 3
  auto p = MakePlacement("vshape", o);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->blocks.size(), 8u);
  auto a = Analyze(*p);
  ASSERT_TRUE(a.ok());
  EXPECT_DOUBLE_EQ(a->period_bound, 4);
  EXPECT_DOUBLE_EQ(a->critical_path, 16);
  // (M + N − 1)(F + B), the G1 bound.
  EXPECT_DOUBLE_EQ(a->MakespanBound(*p, 128), 131 * 4);
}

TEST(Placement, MShapeHasTenBlocksAndPeriodSix) {
  auto p = MakePlacement("mshape", PlacementOptions{});
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->blocks.size(), 10u);
  auto a = Analyze(*p);
  ASSERT_TRUE(a.ok());
  EXPECT_DOUBLE_EQ(a->period_bound, 6);
  auto nn = MakePlacement("nnshape", PlacementOptions{});
  ASSERT_TRUE(nn.ok());
  EXPECT_DOUBLE_EQ(Analyze(*nn)->period_bound, 8);  // Tessel's measured NN period
}

TEST(Placement, AllDeviceBlocksAddTheirExclusiveTimeToTheBound) {
  // M-shape, N = 4, F = 1, B = 3, TP = 1: the 2M TP steps stall every device, and the
  // pipelined part still needs (N − 1)F + M(F + B) + (N − 1)B on the last stage: 12 + 36 = 48
  // at M = 6 (Tessel's lazy optimum); 256 + 636 = 892 at N = 32, M = 128.
  PlacementOptions o;
  auto m4 = MakePlacement("mshape", o);
  ASSERT_TRUE(m4.ok());
  EXPECT_DOUBLE_EQ(Analyze(*m4)->MakespanBound(*m4, 6), 48);
  o.devices = 32;
  auto m32 = MakePlacement("mshape", o);
  ASSERT_TRUE(m32.ok());
  EXPECT_DOUBLE_EQ(Analyze(*m32)->MakespanBound(*m32, 128), 2 * 128 + 31 + 128 * 4 + 31 * 3);
  // NN-shape: four TP blocks per micro-batch.
  auto nn = MakePlacement("nnshape", o);
  ASSERT_TRUE(nn.ok());
  EXPECT_DOUBLE_EQ(Analyze(*nn)->MakespanBound(*nn, 128), 4 * 128 + 31 + 128 * 4 + 31 * 3);
  // A block on every device but for different times only stalls for its shortest one.
  Placement p;
  p.name = "uneven";
  p.num_devices = 2;
  int t = p.AddBlock("t", BlockType::kOther, {0, 1}, 1, 0);
  p.blocks[static_cast<size_t>(t)].duration = {1, 3};
  auto a = Analyze(p);
  ASSERT_TRUE(a.ok());
  EXPECT_DOUBLE_EQ(a->MakespanBound(p, 5), 15);  // device 1's work; exclusive part 5·1 + 5·2
}

TEST(Validation, CycleIsRejectedNamingABlock) {
  Placement p;
  p.name = "cyc";
  p.num_devices = 2;
  int a = p.AddBlock("a", BlockType::kForward, {0}, 1, 1);
  int b = p.AddBlock("b", BlockType::kBackward, {1}, 1, -1);
  p.AddEdge(a, b);
  p.AddEdge(b, a);
  Status s = ValidatePlacement(p);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("cycle through block"), std::string::npos) << s;
}

TEST(Validation, BadFieldsAreNamed) {
  Placement p;
  p.name = "bad";
  p.num_devices = 2;
  p.AddBlock("f0", BlockType::kForward, {3}, 1, 1);
  Status s = ValidatePlacement(p);
  EXPECT_NE(s.message().find("block 0 'f0': device 3 out of range"), std::string::npos) << s;
  p.blocks[0].devices = {0};
  p.blocks[0].duration = {0};
  s = ValidatePlacement(p);
  EXPECT_NE(s.message().find("'f0': duration on device 0"), std::string::npos) << s;
  p.blocks[0].duration = {1};
  p.AddEdge(0, 5);
  s = ValidatePlacement(p);
  EXPECT_NE(s.message().find("edge 0"), std::string::npos) << s;
  p.edges.clear();
  p.SetCap(0.5);
  s = ValidatePlacement(p);
  EXPECT_EQ(s.code(), StatusCode::kInfeasible) << s;
  EXPECT_NE(s.message().find("'f0'"), std::string::npos) << s;
  p.memory_cap = {1};
  s = ValidatePlacement(p);
  EXPECT_NE(s.message().find("memory_cap has 1 entries"), std::string::npos) << s;
}

TEST(Validation, UnknownPlacementListsTheNames) {
  auto p = MakePlacement("wshape", PlacementOptions{});
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("mshape"), std::string::npos);
}

}  // namespace
}  // namespace loom::tessel
