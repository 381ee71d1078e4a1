// The CBC time-indexed MILP against two oracles (label slow): an exhaustive enumeration of
// every precedence-feasible op sequence on tiny instances, and the branch-and-bound wherever it
// claims a proof. Every schedule CBC returns must pass the independent validator.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

#include "loom/base/random.h"
#include "loom/base/strings.h"
#include "loom/tessel/analysis.h"
#include "loom/tessel/cbc_verify.h"
#include "loom/tessel/placements.h"
#include "loom/tessel/search.h"
#include "loom/tessel/validator.h"

namespace loom::tessel {
namespace {

// Slow obvious optimum: try every order of the ops that respects the DAG; start each op as early
// as its predecessors and its devices (appending to each device) allow. Sorting any feasible
// schedule's ops by start gives a sequence whose such schedule is no later anywhere and keeps
// each device's run order (hence its memory), so the minimum over sequences is the optimum.
double ExhaustiveOptimum(const Placement& p, int m) {
  const int nb = static_cast<int>(p.blocks.size());
  const int nops = nb * m;
  std::vector<double> end(static_cast<size_t>(nops), -1), dev_free(static_cast<size_t>(p.num_devices), 0),
      dev_mem(static_cast<size_t>(p.num_devices), 0);
  double best = std::numeric_limits<double>::infinity();
  std::function<void(int, double)> go = [&](int placed, double mk) {
    if (mk >= best) return;
    if (placed == nops) {
      best = mk;
      return;
    }
    for (int o = 0; o < nops; ++o) {
      if (end[static_cast<size_t>(o)] >= 0) continue;
      int b = o % nb, j = o / nb;
      const Block& blk = p.blocks[static_cast<size_t>(b)];
      double start = 0;
      bool ready = true;
      for (const Edge& e : p.edges)
        if (e.to == b) {
          double pe = end[static_cast<size_t>(j * nb + e.from)];
          if (pe < 0) ready = false;
          start = std::max(start, pe + e.latency);
        }
      if (!ready) continue;
      bool fits = true;
      for (size_t k = 0; k < blk.devices.size(); ++k) {
        size_t d = static_cast<size_t>(blk.devices[k]);
        start = std::max(start, dev_free[d]);
        fits = fits && dev_mem[d] + blk.memory[k] <= p.Cap(blk.devices[k]) + 1e-9;
      }
      if (!fits) continue;
      auto saved_free = dev_free;
      for (size_t k = 0; k < blk.devices.size(); ++k) {
        size_t d = static_cast<size_t>(blk.devices[k]);
        dev_free[d] = start + blk.duration[k];
        dev_mem[d] += blk.memory[k];
      }
      end[static_cast<size_t>(o)] = start + blk.Span();
      go(placed + 1, std::max(mk, start + blk.Span()));
      end[static_cast<size_t>(o)] = -1;
      dev_free = saved_free;
      for (size_t k = 0; k < blk.devices.size(); ++k)
        dev_mem[static_cast<size_t>(blk.devices[k])] -= blk.memory[k];
    }
  };
  go(0, 0);
  return best;
}

Placement RandomPlacement(Prng& rng, int max_blocks) {
  Placement p;
  p.name = "random";
  p.num_devices = 2 + static_cast<int>(rng.Uniform(2));
  int nb = 3 + static_cast<int>(rng.Uniform(static_cast<uint64_t>(max_blocks - 2)));
  for (int b = 0; b < nb; ++b) {
    std::vector<int> devs = {static_cast<int>(rng.Uniform(static_cast<uint64_t>(p.num_devices)))};
    uint64_t shape = rng.Uniform(6);
    if (shape == 0) devs.push_back((devs[0] + 1) % p.num_devices);
    if (shape == 1)  // all devices (tensor parallel): exercises the exclusive-time bound
      for (int d = 0; d < p.num_devices; ++d)
        if (d != devs[0]) devs.push_back(d);
    bool fwd = b < nb / 2 + 1;
    p.AddBlock(StrCat("x", b), fwd ? BlockType::kForward : BlockType::kBackward, devs,
               1 + static_cast<double>(rng.Uniform(3)), fwd ? 1 : -1);
    if (b > 0 && rng.Uniform(3) != 0)
      p.AddEdge(static_cast<int>(rng.Uniform(static_cast<uint64_t>(b))), b,
                static_cast<double>(rng.Uniform(2)));
  }
  p.SetCap(3);
  return p;
}

TEST(CbcVerify, OptimumEqualsExhaustiveEnumerationOnTinyPlacements) {
  if (!HaveCbc()) GTEST_SKIP() << "built without CBC";
  Prng rng(11);
  int checked = 0;
  for (int trial = 0; trial < 40; ++trial) {
    Placement p = RandomPlacement(rng, 4);
    const int m = 2;
    double oracle = ExhaustiveOptimum(p, m);
    if (!std::isfinite(oracle)) continue;  // cap below one micro-batch's needs
    SCOPED_TRACE(::testing::Message() << "trial " << trial << " oracle " << oracle);
    auto a = Analyze(p);
    ASSERT_TRUE(a.ok());
    EXPECT_LE(a->MakespanBound(p, m), oracle + 1e-9);  // the search's bound is a true bound
    double horizon = 0;  // a trivially feasible bound: everything in sequence
    for (const Block& b : p.blocks) horizon += b.Span() * m;
    for (const Edge& e : p.edges) horizon += e.latency * m;
    for (bool mid_order : {false, true}) {  // the symmetry rule must not change the optimum
      CbcOptions co;
      co.mid_order = mid_order;
      auto r = SolveWithCbc(p, m, horizon, nullptr, co);
      ASSERT_TRUE(r.ok()) << r.status();
      ASSERT_TRUE(r->optimal);
      ASSERT_TRUE(r->has_schedule);
      EXPECT_TRUE(ValidateSchedule(p, r->schedule).ok());
      EXPECT_EQ(r->makespan, oracle) << "mid_order " << mid_order;
      EXPECT_EQ(r->lower_bound, oracle);
      if (!mid_order) continue;
      // Given the optimum as incumbent, CBC must prove that nothing is shorter.
      auto again = SolveWithCbc(p, m, r->makespan, &r->schedule, co);
      ASSERT_TRUE(again.ok()) << again.status();
      EXPECT_TRUE(again->optimal);
      EXPECT_EQ(again->makespan, oracle);
    }
    ++checked;
  }
  EXPECT_GT(checked, 12);
}

TEST(CbcVerify, AgreesWithProvenBranchAndBoundAndNeverLosesToIt) {
  if (!HaveCbc()) GTEST_SKIP() << "built without CBC";
  Prng rng(7);
  int proven = 0;
  for (int trial = 0; trial < 10; ++trial) {
    Placement p = RandomPlacement(rng, 6);  // up to 14 ops: past the exhaustive oracle's reach
    SearchOptions so;
    so.num_micro = 2;
    so.objective = Objective::kMakespan;
    so.bnb_nodes = 20000;
    auto r = Search(p, so);
    if (!r.ok()) continue;
    ASSERT_TRUE(ValidateSchedule(p, r->schedule).ok());
    auto c = SolveWithCbc(p, so.num_micro, r->makespan, &r->schedule, CbcOptions{});
    ASSERT_TRUE(c.ok()) << c.status();
    SCOPED_TRACE(::testing::Message() << "trial " << trial << " search " << r->makespan
                                      << " cbc " << c->makespan);
    ASSERT_TRUE(c->optimal);
    EXPECT_TRUE(ValidateSchedule(p, c->schedule).ok());
    EXPECT_LE(c->makespan, r->makespan);
    EXPECT_LE(r->makespan_bound, c->makespan + 1e-9);  // the search's bound is a true bound
    if (r->makespan_proven) {
      ++proven;
      EXPECT_EQ(c->makespan, r->makespan);
    }
  }
  EXPECT_GE(proven, 3);
}

TEST(CbcVerify, ChimeraTenStepsIsOptimal) {
  if (!HaveCbc()) GTEST_SKIP() << "built without CBC";
  PlacementOptions o;
  o.f = o.b = 1;
  auto p = MakePlacement("xshape", o);
  ASSERT_TRUE(p.ok());
  auto r = SolveWithCbc(*p, 2, 12, nullptr, CbcOptions{});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->optimal);
  EXPECT_EQ(r->makespan, 10);  // Tessel's Z3 optimum (docs/systems/tessel.md §4)
  EXPECT_TRUE(ValidateSchedule(*p, r->schedule).ok());
}

TEST(CbcVerify, RejectsBadInputWithStatus) {
  PlacementOptions o;
  o.f = 1.5;
  auto p = MakePlacement("vshape", o);
  ASSERT_TRUE(p.ok());
  auto r = SolveWithCbc(*p, 2, 40, nullptr, CbcOptions{});
  EXPECT_FALSE(r.ok());
  o.f = 1;
  p = MakePlacement("vshape", o);
  ASSERT_TRUE(p.ok());
  if (!HaveCbc()) GTEST_SKIP() << "built without CBC";
  r = SolveWithCbc(*p, 2, 3, nullptr, CbcOptions{});  // shorter than one micro-batch's path
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInfeasible);
  CbcOptions small;
  small.max_vars = 10;
  r = SolveWithCbc(*p, 4, 100, nullptr, small);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace loom::tessel
