#include <gtest/gtest.h>

#include "loom/base/thread_pool.h"
#include "loom/tessel/analysis.h"
#include "loom/tessel/placements.h"
#include "loom/tessel/search.h"
#include "loom/tessel/validator.h"

namespace loom::tessel {
namespace {

TEST(Search, VShapeReachesTheG1BoundExactly) {
  for (int n : {2, 4, 8})
    for (int m : {1, 4, 16, 128}) {
      PlacementOptions o;
      o.devices = n;
      auto p = MakePlacement("vshape", o);
      ASSERT_TRUE(p.ok());
      SearchOptions so;
      so.num_micro = m;
      auto r = Search(*p, so);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_TRUE(ValidateSchedule(*p, r->schedule).ok());
      EXPECT_DOUBLE_EQ(r->makespan, (m + n - 1) * 4.0) << "n=" << n << " m=" << m;
      EXPECT_DOUBLE_EQ(r->period, 4.0);
      EXPECT_TRUE(r->makespan_proven);
    }
}

}  // namespace
}  // namespace loom::tessel

namespace loom::tessel {
namespace {

SearchResult MustSearch(const Placement& p, int m, int64_t bnb_nodes = 2000000) {
  SearchOptions so;
  so.num_micro = m;
  so.objective = Objective::kMakespan;
  so.bnb_nodes = bnb_nodes;
  auto r = Search(p, so);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return {};
  EXPECT_TRUE(ValidateSchedule(p, r->schedule).ok());
  return *r;
}

TEST(Search, ChimeraXShapeMatchesTheZ3OptimaFromTheBrief) {
  // Tessel's full Z3 optimum, D = 4 stages, 4 pipeline micro-batches (2 X micro-batches):
  // 10 steps at F = B = 1 (bubble (D−2)/(2N+D−2) = 0.2) and 16 steps at B = 2F.
  PlacementOptions o;
  o.f = 1;
  o.b = 1;
  auto p = MakePlacement("xshape", o);
  ASSERT_TRUE(p.ok());
  SearchResult r = MustSearch(*p, 2);
  EXPECT_DOUBLE_EQ(r.makespan, 10);
  EXPECT_TRUE(r.makespan_proven);
  EXPECT_NEAR(r.metrics.bubble_ratio, 0.2, 1e-12);
  o.b = 2;
  p = MakePlacement("xshape", o);
  r = MustSearch(*p, 2, 400000);
  EXPECT_DOUBLE_EQ(r.makespan, 16);
  EXPECT_TRUE(r.makespan_proven);
  // Over a grid, the search meets Chimera's closed form (2N + D − 2)F at F = B (the hand-built
  // baseline's makespan, simulator_test.cc), N pipeline micro-batches = N/2 micro-plans.
  o.b = 1;
  for (int d : {2, 4, 6, 8})
    for (int n : {d, 2 * d, 4 * d}) {
      o.devices = d;
      p = MakePlacement("xshape", o);
      ASSERT_TRUE(p.ok());
      r = MustSearch(*p, n / 2, 20000);
      EXPECT_LE(r.makespan, 2 * n + d - 2) << "D=" << d << " N=" << n;
    }
}

TEST(Search, ZeroBubbleSplitFindsZbH1AndH2WithinTheirFormulas) {
  for (int p : {2, 3, 4})
    for (int m : {2 * p, 3 * p}) {
      PlacementOptions o;
      o.devices = p;
      o.f = o.b = o.w = 1;
      o.split_w = true;
      auto pl = MakePlacement("vshape", o);
      ASSERT_TRUE(pl.ok());
      SCOPED_TRACE(::testing::Message() << "p=" << p << " m=" << m);
      pl->memory_cap.clear();
      for (int i = 0; i < p; ++i) pl->memory_cap.push_back(p - i);  // 1F1B's memory
      SearchResult h1 = MustSearch(*pl, m, 100000);
      EXPECT_LE(h1.makespan, m * 3.0 + (p - 1) * (o.f + o.b - o.w));
      for (int i = 0; i < p; ++i) pl->memory_cap[static_cast<size_t>(i)] = 2 * (p - i) - 1;
      SearchResult h2 = MustSearch(*pl, m, 100000);
      EXPECT_LE(h2.metrics.window_idle[0], (p - 1) * (o.f + o.b - 2 * o.w) + 1e-9);
      EXPECT_LE(h2.makespan, h1.makespan);
    }
}

TEST(Search, ZeroBubbleVShapeIsFoundAtOneF1BMemory) {
  // ZB-V: m(F + B + W) + (p − 1)F/2 at F = B = W (the hand-built baseline's closed form, which
  // equals the static bound), with 2p chunk activations per device (1F1B's memory).
  for (int p : {2, 4, 6})
    for (int m : {p, 2 * p, 3 * p}) {
      PlacementOptions o;
      o.devices = p;
      o.f = o.b = o.w = 2;
      o.split_w = true;
      o.cap = 2 * p;
      auto pl = MakePlacement("zbv", o);
      ASSERT_TRUE(pl.ok());
      SCOPED_TRACE(::testing::Message() << "p=" << p << " m=" << m);
      SearchResult r = MustSearch(*pl, m, 20000);
      EXPECT_LE(r.makespan, m * 6.0 + (p - 1) + 1e-9);
      EXPECT_TRUE(r.makespan_proven);
      for (double peak : r.metrics.peak_memory) EXPECT_LE(peak, 2 * p);
    }
}

TEST(Search, MShapeMemorySixIsNoWorseThanTesselsLazySearch) {
  PlacementOptions o;
  o.cap = 6;
  auto p = MakePlacement("mshape", o);
  ASSERT_TRUE(p.ok());
  SearchResult r = MustSearch(*p, 6, 50000);
  EXPECT_DOUBLE_EQ(r.period, 6);
  EXPECT_LE(r.makespan, 48);
  for (double peak : r.metrics.peak_memory) EXPECT_LE(peak, 6);
  EXPECT_GE(r.makespan, r.makespan_bound);
}

TEST(Search, ResultIsIdenticalForOneAndTwoThreads) {
  auto p = MakePlacement("nnshape", PlacementOptions{});
  ASSERT_TRUE(p.ok());
  ThreadPool one(1), two(2);
  SearchOptions so;
  so.num_micro = 8;
  so.bnb_nodes = 20000;
  so.pool = &one;
  auto a = Search(*p, so);
  so.pool = &two;
  auto b = Search(*p, so);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->schedule.ops.size(), b->schedule.ops.size());
  for (size_t i = 0; i < a->schedule.ops.size(); ++i) {
    EXPECT_EQ(a->schedule.ops[i].block, b->schedule.ops[i].block);
    EXPECT_EQ(a->schedule.ops[i].mid, b->schedule.ops[i].mid);
    EXPECT_EQ(a->schedule.ops[i].start, b->schedule.ops[i].start);
  }
}

TEST(Search, EveryLibraryPlacementGivesAValidScheduleAboveItsBounds) {
  for (const std::string& name : PlacementNames())
    for (bool split : {false, true}) {
      PlacementOptions o;
      o.split_w = split;
      o.cap = 8;
      auto p = MakePlacement(name, o);
      ASSERT_TRUE(p.ok());
      SearchResult r = MustSearch(*p, 8, 20000);
      SCOPED_TRACE(name);
      EXPECT_GE(r.period + 1e-9, r.period_bound);
      EXPECT_GE(r.makespan + 1e-9, r.makespan_bound);
      EXPECT_GE(r.gap, -1e-12);
    }
}

TEST(Search, TooSmallCapIsInfeasibleNotACrash) {
  PlacementOptions o;
  o.cap = 0.5;
  auto p = MakePlacement("vshape", o);
  EXPECT_EQ(p.status().code(), StatusCode::kInfeasible);
}

TEST(Search, LatencyObjectiveReachesTheCriticalPathForInference) {
  PlacementOptions o;
  o.train = false;
  auto p = MakePlacement("mshape", o);
  ASSERT_TRUE(p.ok());
  SearchOptions so;
  so.objective = Objective::kLatency;
  so.num_micro = 16;
  auto r = Search(*p, so);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(ValidateSchedule(*p, r->schedule).ok());
  auto a = Analyze(*p);
  EXPECT_DOUBLE_EQ(r->metrics.first_micro_done, a->critical_path);
}

}  // namespace
}  // namespace loom::tessel

namespace loom::tessel {
namespace {

TEST(Search, RealValuedDurationsMatchTheScaledIntegerSearchWithinTwoPercent) {
  for (const char* name : {"vshape", "mshape", "nnshape"}) {
    PlacementOptions o;
    auto pi = MakePlacement(name, o);
    o.f *= 0.37;
    o.b *= 0.37;
    o.tp_span *= 0.37;
    auto pr = MakePlacement(name, o);
    ASSERT_TRUE(pi.ok() && pr.ok());
    SearchOptions so;
    so.num_micro = 32;
    so.bnb_nodes = 20000;
    auto ri = Search(*pi, so);
    auto rr = Search(*pr, so);
    ASSERT_TRUE(ri.ok() && rr.ok()) << rr.status();
    EXPECT_TRUE(ValidateSchedule(*pr, rr->schedule).ok());
    EXPECT_LE(rr->makespan, ri->makespan * 0.37 * 1.02) << name;
    EXPECT_GE(rr->makespan, rr->makespan_bound - 1e-9) << name;
  }
}

TEST(Search, CommunicationLatencyIsRespectedAndBoundedByTheCriticalPath) {
  PlacementOptions o;
  auto p = MakePlacement("vshape", o);
  ASSERT_TRUE(p.ok());
  for (Edge& e : p->edges) e.latency = 0.5;
  SearchOptions so;
  so.num_micro = 16;
  so.bnb_nodes = 20000;
  auto r = Search(*p, so);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(ValidateSchedule(*p, r->schedule).ok());
  auto a = Analyze(*p);
  EXPECT_DOUBLE_EQ(a->critical_path, 16 + 7 * 0.5);
  EXPECT_GE(r->makespan, r->makespan_bound - 1e-9);
  EXPECT_GT(r->makespan, (16 + 4 - 1) * 4.0);  // latency costs time over the G1 optimum
  EXPECT_DOUBLE_EQ(r->period, 4);
}

TEST(Search, ParetoSweepTradesMemoryForTime) {
  PlacementOptions o;
  auto p = MakePlacement("vshape", o);
  ASSERT_TRUE(p.ok());
  SearchOptions so;
  so.num_micro = 16;
  so.bnb_nodes = 20000;
  so.objective = Objective::kMakespan;
  so.repetend_nodes = 20000;
  auto front = ParetoSweep(*p, so, {2, 3, 4, 8});
  ASSERT_TRUE(front.ok()) << front.status();
  ASSERT_GE(front->size(), 2u);
  for (size_t i = 1; i < front->size(); ++i) {
    EXPECT_GT((*front)[i].peak, (*front)[i - 1].peak);
    EXPECT_LT((*front)[i].makespan, (*front)[i - 1].makespan);
  }
  EXPECT_DOUBLE_EQ(front->back().makespan, 19 * 4.0);  // 1F1B's memory reaches the G1 bound
}

}  // namespace
}  // namespace loom::tessel
