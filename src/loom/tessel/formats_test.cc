#include <gtest/gtest.h>

#include "loom/base/file_io.h"
#include "loom/testing/temp_dir.h"
#include "loom/tessel/analysis.h"
#include "loom/tessel/baselines.h"
#include "loom/tessel/placements.h"
#include "loom/tessel/search.h"
#include "loom/tessel/simulator.h"
#include "loom/tessel/tessel_json.h"
#include "loom/tessel/validator.h"
#include "loom/tessel/views.h"

namespace loom::tessel {
namespace {

SearchResult MShape(int m) {
  PlacementOptions o;
  o.cap = 6;
  auto p = MakePlacement("mshape", o);
  SearchOptions so;
  so.num_micro = m;
  so.bnb_nodes = 20000;
  return *Search(*p, so);
}

TEST(TesselJson, RoundTripIsIdenticalAndSelfValidating) {
  PlacementOptions o;
  o.cap = 6;
  Placement p = *MakePlacement("mshape", o);
  SearchResult r = MShape(8);
  TesselPlan plan = PlanFromSchedule(p, r.schedule);
  Json j1 = TesselPlanToJson(plan);
  auto back = ParseTesselJson(j1.dump(), "mem");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(TesselPlanToJson(*back), j1);
  auto ps = ScheduleFromPlan(*back, nullptr);
  ASSERT_TRUE(ps.ok()) << ps.status();
  EXPECT_TRUE(ValidateSchedule(ps->first, ps->second).ok());
  EXPECT_EQ(ComputeMetrics(ps->first, ps->second).makespan, r.makespan);
  // Through a file, atomically written.
  loom::testing::TempDir dir;
  std::string path = dir.path() + "/s.json";
  ASSERT_TRUE(WriteTesselJson(path, plan).ok());
  auto again = ReadTesselJson(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(TesselPlanToJson(*again), j1);
}

TEST(TesselJson, TesselStyleFileWithoutGidOrPlacementLoads) {
  // Tessel's own layout: no gid, no edges; blocks listed per micro-batch in plan order.
  std::string text = R"({"ndevs": 2, "repetend": [1, 3], "blocks": [
    {"mid": 0, "span": 1, "memory": 1, "btype": "forward", "step": 0, "device": [0]},
    {"mid": 0, "span": 1, "memory": 1, "btype": "forward", "step": 1, "device": [1]},
    {"mid": 0, "span": 2, "memory": -1, "btype": "backward", "step": 2, "device": [1]},
    {"mid": 0, "span": 2, "memory": -1, "btype": "backward", "step": 4, "device": [0]}]})";
  auto plan = ParseTesselJson(text, "t.json");
  ASSERT_TRUE(plan.ok()) << plan.status();
  auto ps = ScheduleFromPlan(*plan, nullptr);
  ASSERT_TRUE(ps.ok()) << ps.status();
  EXPECT_EQ(ps->first.blocks.size(), 4u);
  EXPECT_TRUE(ValidateSchedule(ps->first, ps->second).ok());
  auto ascii = AsciiView(ps->first, ps->second);
  ASSERT_TRUE(ascii.ok());
  EXPECT_EQ(*ascii, "f0 | -- -- | -- b0-b0\n-- | f0 b0 |-b0 -- --\n");
}

TEST(TesselJson, MalformedInputNamesTheField) {
  auto bad = ParseTesselJson(R"({"ndevs": 2, "blocks": [{"mid": 0, "span": 0, "memory": 1,
      "btype": "forward", "step": 0, "device": [0]}]})", "x.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("x.json"), std::string::npos) << bad.status();
  EXPECT_NE(bad.status().message().find("span"), std::string::npos) << bad.status();
  bad = ParseTesselJson(R"({"ndevs": 2, "blocks": [{"mid": 0, "span": 1, "memory": 1,
      "btype": "sideways", "step": 0, "device": [5]}]})", "x.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("blocks[0]"), std::string::npos) << bad.status();
  EXPECT_FALSE(ParseTesselJson("{\"ndevs\": 2", "x.json").ok());
  EXPECT_FALSE(ParseTesselJson(R"({"ndevs": -1, "blocks": []})", "x.json").ok());
}

TEST(ActionCsv, ReplayReproducesTheScheduleMakespan) {
  for (const char* name : {"mshape", "nnshape", "kshape", "zb"}) {
    PlacementOptions o;
    o.cap = 8;
    Placement p = *MakePlacement(name, o);
    SearchOptions so;
    so.num_micro = 8;
    so.bnb_nodes = 20000;
    auto r = Search(p, so);
    ASSERT_TRUE(r.ok()) << r.status();
    std::string csv = ActionCsv(p, r->schedule);
    auto orders = ParseActionCsv(p, csv);
    ASSERT_TRUE(orders.ok()) << orders.status();
    auto a = Analyze(p);
    auto replay = ExecuteOrders(p, *a, 8, *orders);
    ASSERT_TRUE(replay.ok()) << replay.status();
    EXPECT_TRUE(ValidateSchedule(p, *replay).ok());
    EXPECT_DOUBLE_EQ(ComputeMetrics(p, *replay).makespan, r->makespan) << name;
  }
  PlacementOptions o;
  o.devices = 2;
  auto b = MakeBaseline("1f1b", o, 2);
  EXPECT_EQ(ActionCsv(b->placement, b->schedule), "0F0,0F1,0B0,0B1\n1F0,1B0,1F1,1B1\n");
  EXPECT_FALSE(ParseActionCsv(b->placement, "0F0,9X9\n").ok());
}

TEST(Svg, IsSelfContainedAndCarriesTheBubbleRatio) {
  PlacementOptions o;
  o.cap = 6;
  Placement p = *MakePlacement("mshape", o);
  SearchResult r = MShape(8);
  std::string svg = SvgGantt(p, r.schedule, "mshape");
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("bubble"), std::string::npos);
  EXPECT_NE(svg.find("stroke=\"red\""), std::string::npos);  // repetend markers
  EXPECT_NE(svg.find("<polyline"), std::string::npos);       // memory curves
  EXPECT_EQ(svg.find("href"), std::string::npos);
  EXPECT_EQ(svg.find("<script"), std::string::npos);
}

}  // namespace
}  // namespace loom::tessel
