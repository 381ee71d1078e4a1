// The schedule MILP (schedule_milp.h) against an exhaustive oracle: every combination of send
// orders on every serial resource, each timed by the longest path through precedence and
// resource-order arcs (orders that close a cycle are infeasible). Also: never worse than the
// greedy list schedule, a case where it is strictly better, the time limit, the size cap, and
// the schedule oracle (CheckAlgorithm) on every result.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <vector>

#include "loom/base/random.h"
#include "loom/base/strings.h"
#include "loom/taccl/algorithm.h"
#include "loom/taccl/schedule_milp.h"
#include "loom/taccl/synth_test_util.h"

namespace loom::taccl {
namespace {

using test_util::AllGatherEdges;
using test_util::TinyLine;

// Exhaustive minimum makespan over the per-resource orders.
double BruteForceMakespan(const Topology& t, const std::vector<ScheduleEdge>& edges, double chunk_bytes) {
  const int E = static_cast<int>(edges.size());
  std::vector<double> cost(E);
  std::vector<std::vector<int>> by_res(t.num_resources());
  std::vector<int> res;
  for (int i = 0; i < E; ++i) {
    cost[i] = t.links[edges[i].link].Cost(chunk_bytes * edges[i].count);
    t.ResourcesOf(edges[i].link, &res);
    for (int r : res) by_res[r].push_back(i);
  }
  std::vector<std::vector<int>> lists;
  for (auto& v : by_res)
    if (v.size() > 1) lists.push_back(v);
  double best = std::numeric_limits<double>::infinity();
  std::function<void(size_t)> rec = [&](size_t d) {
    if (d == lists.size()) {
      std::vector<std::vector<int>> succ(E);
      std::vector<int> indeg(E, 0);
      auto arc = [&](int a, int b) {
        succ[a].push_back(b);
        ++indeg[b];
      };
      for (int i = 0; i < E; ++i)
        for (int p : edges[i].preds) arc(p, i);
      for (const auto& l : lists)
        for (size_t x = 1; x < l.size(); ++x) arc(l[x - 1], l[x]);
      std::vector<double> start(E, 0);
      std::vector<int> q;
      for (int i = 0; i < E; ++i)
        if (indeg[i] == 0) q.push_back(i);
      double mk = 0;
      for (size_t h = 0; h < q.size(); ++h) {
        const int i = q[h];
        mk = std::max(mk, start[i] + cost[i]);
        for (int s : succ[i]) {
          start[s] = std::max(start[s], start[i] + cost[i]);
          if (--indeg[s] == 0) q.push_back(s);
        }
      }
      if (static_cast<int>(q.size()) == E) best = std::min(best, mk);
      return;
    }
    std::sort(lists[d].begin(), lists[d].end());
    do rec(d + 1);
    while (std::next_permutation(lists[d].begin(), lists[d].end()));
  };
  rec(0);
  return best;
}

// Exhaustive minimum over every set of disjoint pairs of edges of consecutive chunks on one link
// merged into one send (alpha once), and every send order; merges that close a cycle are
// infeasible.
double BruteForceWithMerges(const Topology& t, const std::vector<ScheduleEdge>& edges, double chunk_bytes) {
  const int E = static_cast<int>(edges.size());
  std::vector<std::pair<int, int>> cand;
  for (int a = 0; a < E; ++a)
    for (int b = 0; b < E; ++b)
      if (edges[a].link == edges[b].link && edges[a].phase == edges[b].phase && edges[a].reduce == edges[b].reduce &&
          edges[a].chunk + edges[a].count == edges[b].chunk)
        cand.push_back({a, b});
  double best = std::numeric_limits<double>::infinity();
  std::vector<int> partner(E, -1);
  std::function<void(size_t)> rec = [&](size_t d) {
    if (d == cand.size()) {
      for (int i = 0; i < E; ++i)
        for (int p : edges[i].preds)
          if (p == partner[i]) return;  // a pair ordered by precedence cannot be one send
      const std::vector<ScheduleEdge> merged = MergeEdgePairs(edges, partner);
      best = std::min(best, BruteForceMakespan(t, merged, chunk_bytes));
      return;
    }
    rec(d + 1);
    auto [a, b] = cand[d];
    if (partner[a] < 0 && partner[b] < 0) {
      partner[a] = b, partner[b] = a;
      rec(d + 1);
      partner[a] = partner[b] = -1;
    }
  };
  rec(0);
  return best;
}

Algorithm AsAllGather(const Topology& t, int chunkup, double chunk_bytes, std::vector<Transfer> transfers) {
  Algorithm a;
  a.coll = Collective::kAllGather;
  a.nranks = t.num_ranks();
  a.chunkup = chunkup;
  a.chunk_bytes = chunk_bytes;
  a.transfers = std::move(transfers);
  for (const auto& tr : a.transfers) a.makespan_us = std::max(a.makespan_us, tr.end_us);
  return a;
}

TEST(ScheduleMilp, EqualsBruteForceAndNeverLosesToGreedyOnTinyAllGathers) {
  struct Case { int gpus, chunkup; double chunk_bytes; int contig; };
  int checked = 0;
  for (Case c : {Case{3, 1, 65536, 1}, Case{3, 2, 65536, 1}, Case{3, 2, 262144, 2}, Case{4, 1, 131072, 1},
                 Case{4, 1, 8192, 2}}) {
    Topology t = TinyLine(c.gpus);
    std::vector<ScheduleEdge> edges = MergeContiguous(t, AllGatherEdges(t, c.chunkup, c.chunk_bytes), c.contig, 0, true);
    ASSERT_FALSE(edges.empty());
    ScheduleMilpOptions o;
    o.order.chunk_bytes = c.chunk_bytes;
    o.max_seconds = 30;
    o.max_nodes = 100000;
    auto r = SolveScheduleMilp(t, edges, o);
    ASSERT_TRUE(r.ok()) << r.status();
    const std::string what = StrCat(c.gpus, " GPUs, chunkup ", c.chunkup, ", contig ", c.contig);
    ASSERT_TRUE(r->solved) << what << ": " << r->skipped_why;
    EXPECT_TRUE(r->optimal) << what;
    EXPECT_LE(r->makespan_us, r->warm_us + 1e-9) << what;
    EXPECT_NEAR(r->makespan_us, BruteForceMakespan(t, edges, c.chunk_bytes), 1e-6) << what;
    EXPECT_LE(r->bound_us, r->makespan_us + 1e-9) << what;
    Algorithm a = AsAllGather(t, c.chunkup, c.chunk_bytes, r->transfers);
    EXPECT_NEAR(a.makespan_us, r->makespan_us, 1e-9) << what;
    Status ok = CheckAlgorithm(a, t);
    EXPECT_TRUE(ok.ok()) << what << ": " << ok;
    ++checked;
  }
  EXPECT_EQ(checked, 5);
}

// Random 3-4 GPU nodes (random NVLink subsets and costs), AllGather at chunkup 1-2, some pairs
// merged: wherever the exhaustive oracle is small enough, the MILP matches it. (Greedy list
// scheduling is optimal on every one of these 52 instances as well; BeatsGreedyWhereWaitingPays
// is the case where it is not.)
TEST(ScheduleMilp, EqualsBruteForceOnRandomTinyNodes) {
  Prng rng(7);
  int checked = 0;
  for (int trial = 0; trial < 60; ++trial) {
    NodeProfile p;
    p.name = "random";
    p.gpus = 3 + static_cast<int>(rng.Uniform(2));
    p.nics = 1;
    for (int g = 0; g + 1 < p.gpus; ++g)  // a line keeps the node connected
      p.links.push_back({g, g + 1, 0.2 + 3 * rng.UniformDouble(), (0.5 + 4 * rng.UniformDouble()) / kMiB, true});
    for (int a = 0; a < p.gpus; ++a)
      for (int b = a + 2; b < p.gpus; ++b)
        if (rng.Uniform(2) == 0)
          p.links.push_back({a, b, 0.2 + 3 * rng.UniformDouble(), (0.5 + 4 * rng.UniformDouble()) / kMiB, true});
    auto t = BuildTopology(p, DefaultSketch(p, 1));
    ASSERT_TRUE(t.ok()) << t.status();
    const int k = 1 + static_cast<int>(rng.Uniform(2));
    const double cb = 16384.0 * static_cast<double>(1 + rng.Uniform(16));
    std::vector<ScheduleEdge> edges =
        MergeContiguous(*t, AllGatherEdges(*t, k, cb), 1 + static_cast<int>(rng.Uniform(2)), 0, true);
    // Size of the exhaustive search: the product of |sends on a resource|!.
    std::vector<int> per_res(t->num_resources(), 0), res;
    for (const auto& e : edges) {
      t->ResourcesOf(e.link, &res);
      for (int r : res) ++per_res[r];
    }
    double combos = 1;
    for (int n : per_res)
      for (int x = 2; x <= n; ++x) combos *= x;
    if (combos > 20000) continue;
    ScheduleMilpOptions o;
    o.order.chunk_bytes = cb;
    o.max_seconds = 30;
    o.max_nodes = 100000;
    auto r = SolveScheduleMilp(*t, edges, o);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_TRUE(r->solved) << r->skipped_why;
    EXPECT_TRUE(r->optimal) << "trial " << trial;
    EXPECT_NEAR(r->makespan_us, BruteForceMakespan(*t, edges, cb), 1e-6) << "trial " << trial;
    EXPECT_LE(r->makespan_us, r->warm_us + 1e-9) << "trial " << trial;
    Status ok = CheckAlgorithm(AsAllGather(*t, k, cb, r->transfers), *t);
    EXPECT_TRUE(ok.ok()) << "trial " << trial << ": " << ok;
    ++checked;
  }
  EXPECT_GE(checked, 40);
}

// Greedy list scheduling starts the first ready send on a link; here the short send of chunk 0
// blocks the critical chain of chunk 1 for 0.5 us. Link costs (chunk_bytes 0): 0->1 1 us,
// 1->0 0.5 us, 1->2 10 us. Greedy: 12 us; optimum (wait 0.5 us for chunk 1): 11.5 us.
TEST(ScheduleMilp, BeatsGreedyWhereWaitingPays) {
  NodeProfile p;
  p.name = "wait";
  p.gpus = 3;
  p.nics = 1;
  p.links = {{0, 1, 1.0, 1e-9, false}, {1, 0, 0.5, 1e-9, false}, {1, 2, 10.0, 1e-9, false}};
  auto t = BuildTopology(p, DefaultSketch(p, 1));
  ASSERT_TRUE(t.ok()) << t.status();
  const int l01 = t->FindLink(0, 1), l10 = t->FindLink(1, 0), l12 = t->FindLink(1, 2);
  std::vector<ScheduleEdge> e(4);
  e[0].chunk = 0, e[0].link = l01;
  e[1].chunk = 1, e[1].link = l10;
  e[2].chunk = 1, e[2].link = l01, e[2].preds = {1};
  e[3].chunk = 1, e[3].link = l12, e[3].preds = {2};
  ScheduleMilpOptions o;
  o.max_seconds = 30;
  auto r = SolveScheduleMilp(*t, e, o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->solved);
  EXPECT_NEAR(r->warm_us, 12.0, 1e-6);
  EXPECT_NEAR(r->makespan_us, 11.5, 1e-6);
  EXPECT_NEAR(BruteForceMakespan(*t, e, 0), 11.5, 1e-6);
  EXPECT_TRUE(r->improved);
  EXPECT_TRUE(r->optimal);
  EXPECT_NEAR(r->gap(), 0, 1e-9);
}

TEST(ScheduleMilp, ContiguityEqualsBruteForceOverMergesAndOrders) {
  struct Case { int gpus, chunkup; double chunk_bytes; };
  for (Case c : {Case{3, 1, 4096}, Case{3, 2, 4096}, Case{3, 2, 262144}, Case{4, 1, 8192}}) {
    Topology t = TinyLine(c.gpus);
    std::vector<ScheduleEdge> edges = AllGatherEdges(t, c.chunkup, c.chunk_bytes);
    ScheduleMilpOptions o;
    o.order.chunk_bytes = c.chunk_bytes;
    o.max_seconds = 30;
    o.max_nodes = 100000;
    auto plain = SolveScheduleMilp(t, edges, o);
    o.contiguity = true;
    auto r = SolveScheduleMilp(t, edges, o);
    ASSERT_TRUE(plain.ok() && r.ok());
    const std::string what = StrCat(c.gpus, " GPUs, chunkup ", c.chunkup, ", ", c.chunk_bytes, " B");
    ASSERT_TRUE(r->solved) << what;
    EXPECT_TRUE(r->optimal) << what;
    EXPECT_NEAR(r->makespan_us, BruteForceWithMerges(t, edges, c.chunk_bytes), 1e-6) << what;
    EXPECT_LE(r->makespan_us, plain->makespan_us + 1e-9) << what;
    // Every case here gains from merging (alpha is a large part of a send at these sizes).
    EXPECT_LT(r->makespan_us, plain->makespan_us - 1e-6) << what;
    EXPECT_GT(r->merges, 0) << what;
    Status ok = CheckAlgorithm(AsAllGather(t, c.chunkup, c.chunk_bytes, r->transfers), t);
    EXPECT_TRUE(ok.ok()) << what << ": " << ok;
  }
}

// Two chunks ready at once on a 10 us alpha link: apart 2 x (10 + beta b); together 10 + 2 beta b.
TEST(ScheduleMilp, ContiguityMergesWhereAlphaDominates) {
  NodeProfile p;
  p.name = "alpha";
  p.gpus = 2;
  p.nics = 1;
  p.links = {{0, 1, 10.0, 1 / kMiB, true}};
  auto t = BuildTopology(p, DefaultSketch(p, 1));
  ASSERT_TRUE(t.ok()) << t.status();
  std::vector<ScheduleEdge> e(2);
  e[0].chunk = 0, e[0].link = t->FindLink(0, 1);
  e[1].chunk = 1, e[1].link = e[0].link;
  ScheduleMilpOptions o;
  o.order.chunk_bytes = kMiB;
  o.contiguity = true;
  auto r = SolveScheduleMilp(*t, e, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_NEAR(r->warm_us, 22.0, 1e-6);
  EXPECT_NEAR(r->makespan_us, 12.0, 1e-6);
  EXPECT_EQ(r->merges, 1);
  ASSERT_EQ(r->transfers.size(), 2u);
  EXPECT_GE(r->transfers[0].group, 0);
  EXPECT_EQ(r->transfers[0].group, r->transfers[1].group);
}

TEST(ScheduleMilp, ZeroTimeLimitReturnsAValidScheduleNotNothing) {
  Topology t = TinyLine(4);
  std::vector<ScheduleEdge> edges = AllGatherEdges(t, 2, 65536);
  ScheduleMilpOptions o;
  o.order.chunk_bytes = 65536;
  o.max_seconds = 1e-9;
  o.max_nodes = 0;
  auto r = SolveScheduleMilp(t, edges, o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE(r->solved);
  ASSERT_FALSE(r->transfers.empty());
  EXPECT_LE(r->makespan_us, r->warm_us + 1e-9);
  EXPECT_LE(r->bound_us, r->makespan_us + 1e-9);
  Status ok = CheckAlgorithm(AsAllGather(t, 2, 65536, r->transfers), t);
  EXPECT_TRUE(ok.ok()) << ok;
}

TEST(ScheduleMilp, OverCapModelIsSkippedCleanly) {
  Topology t = TinyLine(4);
  std::vector<ScheduleEdge> edges = AllGatherEdges(t, 2, 65536);
  ScheduleMilpOptions o;
  o.order.chunk_bytes = 65536;
  o.max_binaries = 1;
  auto r = SolveScheduleMilp(t, edges, o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->solved);
  EXPECT_NE(r->skipped_why.find("cap 1"), std::string::npos) << r->skipped_why;
  EXPECT_TRUE(r->transfers.empty());
  EXPECT_GT(r->warm_us, 0);
}

// In Synthesize: the MILP polishes the 1xNDv2 AllGather winner, is reported, and the result is
// never slower than without it (it is one more candidate).
TEST(ScheduleMilp, SynthesizeRunsItOnSmallInstancesAndNeverGetsWorse) {
  auto s = test_util::Load("sk1-ndv2-n1.json");
  SynthOptions o;
  o.bytes = 1 << 20;
  auto with = Synthesize(s.topo, s.sketch, o);
  ASSERT_TRUE(with.ok()) << with.status();
  EXPECT_FALSE(with->order_milp_on.empty());
  EXPECT_TRUE(with->order_milp.solved) << with->order_milp.skipped_why;
  EXPECT_GT(with->order_milp.binaries, 0);
  EXPECT_LE(with->order_milp.makespan_us, with->order_milp.warm_us + 1e-9);
  EXPECT_LE(with->order_milp.bound_us, with->order_milp.makespan_us + 1e-9);
  test_util::ExpectSound(*with, "1xNDv2 AG with the schedule MILP");
  o.order_milp_seconds = 0;
  auto without = Synthesize(s.topo, s.sketch, o);
  ASSERT_TRUE(without.ok()) << without.status();
  EXPECT_TRUE(without->order_milp_on.empty());
  EXPECT_LE(with->sim.time_us, without->sim.time_us * (1 + 1e-12));
}

}  // namespace
}  // namespace loom::taccl
