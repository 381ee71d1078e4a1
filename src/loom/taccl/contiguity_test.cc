// Stage 3 contiguity variants: tapered network groups, groups on every link (NVLink, switch) and
// explicit network plans, on BFS-level, landed-spread and two-level switch routings.
// Each merge must cover every routed chunk transfer exactly once with consecutive chunks, honour
// the group shape asked for, and, scheduled and lowered, pass the schedule oracle, the reference
// interpreter (every destination element checked) and comm's validator in both dialects.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "loom/comm/program/validate.h"
#include "loom/taccl/comm_bridge.h"
#include "loom/taccl/ordering.h"
#include "loom/taccl/program.h"
#include "loom/taccl/reference_exec.h"
#include "loom/taccl/routing.h"
#include "loom/taccl/sketch.h"
#include "loom/taccl/taccl_files.h"

namespace loom::taccl {
namespace {

struct Case {
  NodeProfile profile;
  int nodes;
  Collective coll;
  int landed_depth;      // RouteOptions::landed_depth
  int switch_group = 0;  // RouteOptions::switch_group
};

// Routed edges of an AllGather (trees) or a reduce-scatter (reduction trees on the transpose).
std::vector<ScheduleEdge> RoutedEdges(const Topology& t, const Sketch& sk, Collective coll, int k,
                                      int landed_depth = 0, int switch_group = 0) {
  RouteOptions ro;
  ro.switch_group = switch_group;
  ro.use_milp = false;
  ro.landed_depth = landed_depth;
  std::vector<ScheduleEdge> edges;
  if (coll == Collective::kAllGather) {
    auto r = RouteChunks(t, sk, coll, k, 0, ro);
    EXPECT_TRUE(r.ok()) << r.status();
    std::vector<int> src(t.num_ranks() * k);
    for (size_t c = 0; c < src.size(); ++c) src[c] = static_cast<int>(c) / k;
    AppendTreeEdges(t, r->trees, src, 0, nullptr, &edges);
  } else {
    auto r = RouteChunks(Transposed(t), TransposedSketch(sk, t.gpus_per_node), Collective::kAllGather, k, 0, ro);
    EXPECT_TRUE(r.ok()) << r.status();
    AppendReduceEdges(t, r->trees, &edges);
  }
  return edges;
}

// TACCL's sk1-ndv2-n2: GPU 0 of each node relays to GPU 1 of the other.
Sketch Sk1Ndv2() {
  auto parsed = ParseTacclSketch(R"({"nnodes": 2, "intranode_sketch": {"strategy": "none"},
      "internode_sketch": {"strategy": "relay", "internode_conn": {"0": [1]}},
      "symmetry_offsets": [[8, 16]]})", "sk1-ndv2-n2");
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  return parsed.ok() ? *parsed : Sketch{};
}

TEST(TacclContiguity, TaperedAndAllLinkGroupsCoverEveryTransferAndExecute) {
  const std::vector<Case> cases = {{Ndv2Profile(), 2, Collective::kAllGather, 0},
                                   {Ndv2Profile(), 2, Collective::kReduceScatter, 0},
                                   {Ndv2Profile(), 2, Collective::kAllGather, 4},
                                   {Ndv2Profile(), 2, Collective::kReduceScatter, 3},
                                   {Dgx2Profile(), 1, Collective::kAllGather, 0},
                                   {Dgx2Profile(), 1, Collective::kAllGather, 0, 4}};
  struct Variant { int contig, taper; bool all_links; int first_n = 0, last_n = 0; };
  const int both = kTaperFirst | kTaperLast;
  const std::vector<Variant> variants = {{3, both, false}, {1 << 20, both, false}, {1 << 20, kTaperFirst, false},
                                         {1 << 20, kTaperLast, false}, {2, 0, true}, {1 << 20, 0, true},
                                         {6, kTaperOwn | kTaperLast, false}, {6, kTaperOwn | both, false},
                                         {4, kTaperLast, true}, {1 << 20, 0, false, 2, 1},
                                         {3, 0, false, 1, 2}, {1 << 20, 0, true, 2, 2}};
  int merged_intra = 0, tapered = 0, own_groups = 0, planned = 0;
  for (const Case& cs : cases) {
    // TACCL's sk1-ndv2-n2 (GPU 0 of each node relays to GPU 1 of the other: long runs of
    // consecutive chunks on one network link); one DGX-2 node has no network.
    Sketch sk = cs.nodes == 2 ? Sk1Ndv2() : DefaultSketch(cs.profile, cs.nodes);
    auto t = BuildTopology(cs.profile, sk);
    ASSERT_TRUE(t.ok()) << t.status();
    const int k = 2;
    std::vector<ScheduleEdge> routed = RoutedEdges(*t, sk, cs.coll, k, cs.landed_depth, cs.switch_group);
    std::multiset<std::tuple<int, int, bool>> want;  // (link, chunk, reduce)
    for (const ScheduleEdge& e : routed) want.insert({e.link, e.chunk, e.reduce});
    for (const Variant& v : variants) {
      SCOPED_TRACE(testing::Message() << cs.profile.name << " x" << cs.nodes << " " << CollectiveName(cs.coll)
                                      << " landed depth " << cs.landed_depth << " switch group " << cs.switch_group << " contig " << v.contig << " taper "
                                      << v.taper << " all " << v.all_links << " plan " << v.first_n << "/" << v.last_n);
      std::vector<ScheduleEdge> m =
          MergeContiguous(*t, routed, v.contig, v.taper, v.all_links, v.first_n, v.last_n);
      // Exact cover by groups of consecutive chunks, each within the size asked for; merges
      // only on network links unless all_links.
      std::multiset<std::tuple<int, int, bool>> got;
      std::map<int, std::vector<const ScheduleEdge*>> by_link;
      for (const ScheduleEdge& e : m) {
        ASSERT_GE(e.count, 1);
        if (v.first_n == 0 || t->links[e.link].kind != LinkKind::kNetwork) {
          ASSERT_LE(e.count, v.contig);
        }
        if (e.count > 1 && t->links[e.link].kind != LinkKind::kNetwork) {
          ASSERT_TRUE(v.all_links);
          ++merged_intra;
        }
        for (int c = e.chunk; c < e.chunk + e.count; ++c) got.insert({e.link, c, e.reduce});
        by_link[e.link].push_back(&e);
      }
      ASSERT_EQ(got, want);
      // Own group: on a network link, the chunks owned by the sender (AllGather) or by the
      // receiver (reduce-scatter: their sums end there) travel as one group of all k of them.
      if (v.taper & kTaperOwn)
        for (auto& [li, es] : by_link) {
          if (t->links[li].kind != LinkKind::kNetwork) continue;
          const Link& l = t->links[li];
          const int owner = cs.coll == Collective::kAllGather ? l.src : l.dst;
          for (const ScheduleEdge* e : es)
            if (e->chunk / k == owner || (e->chunk + e->count - 1) / k == owner) {
              EXPECT_EQ(e->chunk, owner * k);
              EXPECT_EQ(e->count, k);
              ++own_groups;
            }
        }
      // Tapered: on a network link (every link with all_links), the lowest and / or the highest
      // chunk of the link travel alone.
      if (v.taper && !(v.taper & kTaperOwn))
        for (auto& [li, es] : by_link) {
          if ((t->links[li].kind != LinkKind::kNetwork && !v.all_links) || es.size() < 3) continue;
          int lo = 1 << 30, hi = -1;
          for (const ScheduleEdge* e : es) lo = std::min(lo, e->chunk), hi = std::max(hi, e->chunk + e->count - 1);
          for (const ScheduleEdge* e : es)
            if (((v.taper & kTaperFirst) && e->chunk == lo) || ((v.taper & kTaperLast) && e->chunk + e->count - 1 == hi)) {
              EXPECT_EQ(e->count, 1);
            }
          ++tapered;
        }
      OrderOptions oo;
      oo.chunk_bytes = 32 << 10;
      auto trs = ScheduleEdges(*t, m, oo);
      ASSERT_TRUE(trs.ok()) << trs.status();
      // Plan: on a network link (its chunks are one run here: one relay per node), the lowest
      // first_n chunks are the first message, the highest last_n the last one, the middle is cut
      // into groups of <= contig, and the messages are sent in chunk order.
      if (v.first_n > 0)
        for (auto& [li, es] : by_link) {
          if (t->links[li].kind != LinkKind::kNetwork) continue;
          std::vector<const ScheduleEdge*> g = es;
          std::sort(g.begin(), g.end(), [](auto* x, auto* y) { return x->chunk < y->chunk; });
          ASSERT_GE(g.size(), 3u);
          EXPECT_EQ(g.front()->count, v.first_n);
          EXPECT_EQ(g.back()->count, v.last_n);
          for (size_t i = 1; i + 1 < g.size(); ++i) EXPECT_LE(g[i]->count, v.contig);
          std::vector<std::pair<double, int>> sent;  // (start, first chunk) of the link's sends
          for (const Transfer& tr : *trs)
            if (tr.link == li) sent.push_back({tr.start_us, tr.chunk});
          std::sort(sent.begin(), sent.end());
          for (size_t i = 1; i < sent.size(); ++i) EXPECT_LE(sent[i - 1].second, sent[i].second) << "link " << li;
          ++planned;
        }
      Algorithm a;
      a.coll = cs.coll;
      a.nranks = t->num_ranks();
      a.chunkup = k;
      a.chunk_bytes = oo.chunk_bytes;
      a.transfers = *trs;
      ASSERT_TRUE(CheckAlgorithm(a, *t).ok()) << CheckAlgorithm(a, *t);
      for (bool split : {false, true}) {
        auto p = Lower(a, *t, split);
        ASSERT_TRUE(p.ok()) << p.status();
        Status ok = ExecuteAndCheck(*p, 2, 2);
        EXPECT_TRUE(ok.ok()) << ok;
        // comm's validator (runtime rules, deadlock, races, postcondition), both dialects.
        for (Dialect d : {Dialect::kOriginal, Dialect::kExecutor}) {
          auto xml = EmitXml(*p, d);
          EXPECT_TRUE(xml.ok()) << xml.status();
        }
      }
    }
  }
  EXPECT_GT(merged_intra, 0);
  EXPECT_GT(tapered, 0);
  EXPECT_GT(own_groups, 0);
  EXPECT_GT(planned, 0);
}

// One group is one MSCCL step, whose cnt must stay below MSCCL_MAX_COUNT: at chunkup 16 a relay
// sends 128 consecutive chunks over its network link, which unbounded and planned groups used
// to merge into steps of up to 128 chunks that comm's validator rejects.
TEST(TacclContiguity, GroupsStayBelowMscclsCountLimit) {
  const Sketch sk = Sk1Ndv2();
  auto t = BuildTopology(Ndv2Profile(), sk);
  ASSERT_TRUE(t.ok()) << t.status();
  const int k = 16;
  const std::vector<ScheduleEdge> routed = RoutedEdges(*t, sk, Collective::kAllGather, k, 3);
  for (auto [first_n, last_n] : {std::pair{0, 0}, std::pair{2, 2}, std::pair{100, 2}}) {
    std::vector<ScheduleEdge> m = MergeContiguous(*t, routed, 1 << 20, 0, true, first_n, last_n);
    int widest = 0, chunks = 0;
    for (const ScheduleEdge& e : m) widest = std::max(widest, e.count), chunks += e.count;
    EXPECT_EQ(chunks, static_cast<int>(routed.size()));
    EXPECT_EQ(widest, comm::program::kMaxCount - 1) << first_n;  // capped, not unmerged
    OrderOptions oo;
    oo.chunk_bytes = 4 << 10;
    auto trs = ScheduleEdges(*t, m, oo);
    ASSERT_TRUE(trs.ok()) << trs.status();
    Algorithm a;
    a.nranks = t->num_ranks();
    a.chunkup = k;
    a.chunk_bytes = oo.chunk_bytes;
    a.transfers = *trs;
    ASSERT_TRUE(CheckAlgorithm(a, *t).ok());
    auto p = Lower(a, *t, false);
    ASSERT_TRUE(p.ok()) << p.status();
    auto xml = EmitXml(*p, Dialect::kExecutor);
    EXPECT_TRUE(xml.ok()) << xml.status();
  }
}

}  // namespace
}  // namespace loom::taccl
