// Routing: the CBC model against the greedy warm start and a brute-force optimum; trees are
// trees; symmetric nodes are solved once.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>

#include "loom/taccl/ordering.h"
#include "loom/taccl/routing.h"
#include "loom/taccl/sketch.h"
#include "loom/taccl/taccl_files.h"

namespace loom::taccl {
namespace {

TEST(TacclRouting, MilpIsOptimalOnOneNdv2AndNoWorseThanGreedy) {
  Sketch sk = DefaultSketch(Ndv2Profile(), 1);
  auto t = BuildTopology(Ndv2Profile(), sk);
  ASSERT_TRUE(t.ok());
  RouteOptions milp;
  milp.max_nodes = 100000;
  RouteOptions greedy = milp;
  greedy.use_milp = false;
  auto m = RouteChunks(*t, sk, Collective::kAllGather, 1, 0, milp);
  auto g = RouteChunks(*t, sk, Collective::kAllGather, 1, 0, greedy);
  ASSERT_TRUE(m.ok() && g.ok()) << m.status() << g.status();
  EXPECT_EQ(m->milp_optimal, 1);
  EXPECT_LE(m->load_us, g->load_us + 1e-9);
  EXPECT_LE(m->load_bound_us, m->load_us + 1e-6);
  EXPECT_GE(m->load_bound_us, m->load_us - 1e-6);  // proven optimal: bound meets the load
  // Every chunk reaches all 7 other GPUs over a tree whose links start where the chunk is.
  for (int c = 0; c < 8; ++c) {
    std::vector<bool> has(8, false);
    has[c] = true;
    for (int li : m->trees[c]) {
      ASSERT_TRUE(has[t->links[li].src]);
      ASSERT_FALSE(has[t->links[li].dst]);
      has[t->links[li].dst] = true;
    }
    EXPECT_EQ(std::count(has.begin(), has.end(), true), 8);
  }
}

TEST(TacclRouting, MilpOptimumEqualsBruteForceOnAFourGpuChain) {
  // 0-1-2-3 chain plus a slow chord 0-2: chunk 0 must reach 3; the MILP picks, per chunk, the
  // parents minimising the heaviest link; brute force over all parent choices agrees.
  NodeProfile p;
  p.name = "chain";
  p.gpus = 4;
  p.nics = 1;
  p.links = {{0, 1, 0.5, 10 / kMiB}, {1, 2, 0.5, 10 / kMiB}, {2, 3, 0.5, 10 / kMiB}, {0, 2, 0.5, 25 / kMiB}};
  p.nic_alpha_us = 1;
  p.nic_beta_us_per_byte = 1 / kMiB;
  Sketch sk = DefaultSketch(p, 1);
  auto t = BuildTopology(p, sk);
  ASSERT_TRUE(t.ok());
  RouteOptions o;
  o.max_nodes = 100000;
  auto m = RouteChunks(*t, sk, Collective::kAllGather, 1, 0, o);
  ASSERT_TRUE(m.ok()) << m.status();
  // Brute force: every chunk's tree is determined by each destination's parent choice among
  // BFS-level predecessors; enumerate them all.
  std::vector<std::vector<std::vector<int>>> options(4);  // chunk -> dest -> candidate links
  for (int c = 0; c < 4; ++c) {
    auto d = t->HopDistances(c);
    for (int v = 0; v < 4; ++v) {
      if (v == c) continue;
      std::vector<int> cand;
      for (int li : t->in_links[v])
        if (d[t->links[li].src] == d[v] - 1) cand.push_back(li);
      options[c].push_back(cand);
    }
  }
  double best = 1e300;
  std::vector<std::vector<int>> trees(4);
  std::function<void(int, int)> rec = [&](int c, int i) {
    if (c == 4) {
      best = std::min(best, MaxLoad(*t, trees, kMiB));
      return;
    }
    if (i == static_cast<int>(options[c].size())) return rec(c + 1, 0);
    for (int li : options[c][i]) {
      trees[c].push_back(li);
      rec(c, i + 1);
      trees[c].pop_back();
    }
  };
  rec(0, 0);
  EXPECT_NEAR(m->load_us, best, 1e-9);
}

TEST(TacclRouting, SymmetricNodesAreSolvedOnce) {
  auto sk = ParseTacclSketch(R"({"nnodes": 4, "intranode_sketch": {"strategy": "none"},
      "internode_sketch": {"strategy": "relay", "internode_conn": {"0": [1]}},
      "symmetry_offsets": [[8, 32]]})", "n4.json");
  ASSERT_TRUE(sk.ok());
  auto t = BuildTopology(Ndv2Profile(), *sk);
  ASSERT_TRUE(t.ok());
  auto r = RouteChunks(*t, *sk, Collective::kAllGather, 1, 0, RouteOptions{});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->nodes_reused, 3);
  EXPECT_EQ(r->milp_models, 1);
}

TEST(TacclRouting, UnreachableDestinationIsInfeasibleAndSaysWhere) {
  NodeProfile p;
  p.name = "split";
  p.gpus = 4;
  p.nics = 1;
  p.links = {{0, 1, 0.5, 10 / kMiB}, {2, 3, 0.5, 10 / kMiB}};
  p.nic_alpha_us = 1;
  p.nic_beta_us_per_byte = 1 / kMiB;
  Sketch sk = DefaultSketch(p, 1);
  auto t = BuildTopology(p, sk);
  ASSERT_TRUE(t.ok());
  auto r = RouteChunks(*t, sk, Collective::kAllGather, 1, 0, RouteOptions{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInfeasible);
  EXPECT_NE(r.status().message().find("cannot be reached"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace loom::taccl

namespace loom::taccl {
namespace {

TEST(TacclRouting, SwitchRelayTreesBalanceOutPortsOnTwoDgx2) {
  // DGX-2 sk1: every remote chunk lands on an even GPU, which alone would send it 15 times
  // (45 copies on its out-port against 31 on every in-port). The relay trees, rebalanced,
  // bring the busiest switch port within 3 % of the in-port load every schedule must carry
  // (31 receptions on the odd GPUs), and every chunk still reaches every GPU once, over links
  // whose source already holds it.
  auto sk = ReadTacclSketch(std::string(LOOM_TACCL_TESTDATA) + "/sk1-dgx2-n2.json");
  ASSERT_TRUE(sk.ok()) << sk.status();
  auto t = BuildTopology(Dgx2Profile(), *sk);
  ASSERT_TRUE(t.ok()) << t.status();
  for (bool direct_home : {false, true}) {
    RouteOptions ro;
    ro.use_milp = false;
    ro.switch_relay = true;
    ro.switch_depth = 2;
    ro.switch_direct_home = direct_home;
    ro.chunk_bytes = kMiB;
    auto r = RouteChunks(*t, *sk, Collective::kAllGather, 1, 0, ro);
    ASSERT_TRUE(r.ok()) << r.status();
    const double port = t->switches[0].alpha_us + t->switches[0].beta_us_per_byte * kMiB;
    std::vector<double> load(t->num_resources(), 0);
    std::vector<int> res;
    for (const auto& tree : r->trees)
      for (int li : tree) {
        t->ResourcesOf(li, &res);
        for (int x : res) load[x] += t->links[li].Cost(kMiB);
      }
    double worst = 0;
    for (int x = 0; x < t->num_resources(); ++x)
      if (t->ResourceName(x).find("switch") != std::string::npos) worst = std::max(worst, load[x]);
    EXPECT_GE(worst, 31 * port - 1e-9);
    EXPECT_LE(worst, 1.03 * 31 * port) << (direct_home ? "landed-only trees" : "all trees");
    for (int c = 0; c < 32; ++c) {
      std::vector<bool> has(32, false);
      has[c] = true;
      for (int li : r->trees[c]) {
        ASSERT_TRUE(has[t->links[li].src]) << "chunk " << c;
        ASSERT_FALSE(has[t->links[li].dst]) << "chunk " << c;
        has[t->links[li].dst] = true;
      }
      EXPECT_EQ(std::count(has.begin(), has.end(), true), 32);
    }
  }
}

// Landed-spread trees (RouteOptions::landed_depth) on 2xNDv2 with TACCL's sk1 (GPU 0 of each node
// relays to GPU 1 of the other): still trees from the chunk's source reaching every GPU, of depth
// <= the limit below the landing GPU (also after the leaf-moving rebalance, which never raises
// the heaviest load); against BFS levels (which make the landing GPU send every
// landed chunk to all 4 of its neighbours) the landing GPU sends fewer copies and the heaviest
// link load of the landed chunks is no higher.
TEST(TacclRouting, LandedSpreadTreesAreShallowTreesThatOffloadTheLandingGpu) {
  auto sk = ParseTacclSketch(R"({"nnodes": 2, "intranode_sketch": {"strategy": "none"},
      "internode_sketch": {"strategy": "relay", "internode_conn": {"0": [1]}},
      "symmetry_offsets": [[8, 16]]})", "sk1-ndv2-n2");
  ASSERT_TRUE(sk.ok()) << sk.status();
  auto t = BuildTopology(Ndv2Profile(), *sk);
  ASSERT_TRUE(t.ok()) << t.status();
  const int k = 4, N = 16;
  struct Stats { double copies_per_landed = 0, landed_max_load = 0; };
  auto measure = [&](int depth_limit, bool rebalance = false) {
    RouteOptions ro;
    ro.landed_rebalance = rebalance;
    ro.use_milp = false;
    ro.chunk_bytes = 16 << 10;
    ro.landed_depth = depth_limit;
    auto r = RouteChunks(*t, *sk, Collective::kAllGather, k, 0, ro);
    EXPECT_TRUE(r.ok()) << r.status();
    Stats st;
    std::vector<double> load(t->num_resources(), 0);
    std::vector<int> res;
    int copies = 0, landed = 0;
    for (int c = 0; c < N * k; ++c) {
      std::vector<int> depth(N, -1);
      depth[c / k] = 0;
      int landing = -1;
      for (int li : r->trees[c]) {
        const Link& l = t->links[li];
        EXPECT_GE(depth[l.src], 0) << "chunk " << c;
        EXPECT_EQ(depth[l.dst], -1) << "chunk " << c;
        if (l.kind == LinkKind::kNetwork) {
          landing = l.dst;
          depth[l.dst] = 0;
        } else {
          depth[l.dst] = depth[l.src] + 1;
        }
      }
      EXPECT_EQ(std::count(depth.begin(), depth.end(), -1), 0) << "chunk " << c;
      EXPECT_EQ(t->LocalOf(landing), 1) << "chunk " << c;
      ++landed;
      for (int li : r->trees[c]) {
        const Link& l = t->links[li];
        if (l.kind == LinkKind::kNetwork || t->NodeOf(l.dst) != t->NodeOf(landing)) continue;
        if (depth_limit > 0) {
          EXPECT_LE(depth[l.dst], depth_limit) << "chunk " << c;
        }
        if (l.src == landing) ++copies;
        t->ResourcesOf(li, &res);
        for (int x : res) load[x] += l.Cost(ro.chunk_bytes);
      }
    }
    st.copies_per_landed = static_cast<double>(copies) / landed;
    st.landed_max_load = *std::max_element(load.begin(), load.end());
    return st;
  };
  const Stats bfs = measure(0);
  EXPECT_DOUBLE_EQ(bfs.copies_per_landed, 4.0);  // every neighbour of the landing GPU, directly
  for (int depth : {3, 4}) {
    SCOPED_TRACE(depth);
    const Stats spread = measure(depth);
    EXPECT_GE(spread.copies_per_landed, 1.0);
    EXPECT_LT(spread.copies_per_landed, bfs.copies_per_landed);
    EXPECT_LE(spread.landed_max_load, bfs.landed_max_load + 1e-9);
    // The leaf-moving rebalance only makes moves that lower the link a leaf leaves below where
    // it was, onto a link that stays below that too: the heaviest load cannot grow.
    const Stats rebalanced = measure(depth, true);
    EXPECT_LE(rebalanced.landed_max_load, spread.landed_max_load + 1e-9);
    std::printf("landed depth %d: %.2f copies per landed chunk from the landing GPU, max landed load %.1f us "
                "(rebalanced %.1f; BFS: %.2f, %.1f us)\n", depth, spread.copies_per_landed, spread.landed_max_load,
                rebalanced.landed_max_load, bfs.copies_per_landed, bfs.landed_max_load);
  }
}

// Two-level switch trees (RouteOptions::switch_group = 4) on 2xDGX-2 with the default sketch:
// trees of depth <= 2 inside each node reaching every GPU, with exactly the per-port load of
// direct sends (every GPU still receives each chunk once and sends as much as it would alone),
// while the all-link contiguity merge leaves each switch in-port far fewer messages (BFS trees
// are direct sends: one message per chunk).
TEST(TacclRouting, SwitchGroupTreesKeepThePortLoadAndCutTheInPortMessages) {
  Sketch sk = DefaultSketch(Dgx2Profile(), 2);
  auto t = BuildTopology(Dgx2Profile(), sk);
  ASSERT_TRUE(t.ok()) << t.status();
  const int N = 32, G = 16;
  auto route = [&](int group) {
    RouteOptions ro;
    ro.use_milp = false;
    ro.chunk_bytes = 32 << 10;
    ro.switch_group = group;
    auto r = RouteChunks(*t, sk, Collective::kAllGather, 1, 0, ro);
    EXPECT_TRUE(r.ok()) << r.status();
    return *r;
  };
  const Routing direct = route(0), grouped = route(4);
  std::vector<int> src(N);
  for (int c = 0; c < N; ++c) src[c] = c;
  auto in_port_messages = [&](const Routing& r) {
    std::vector<ScheduleEdge> edges;
    AppendTreeEdges(*t, r.trees, src, 0, nullptr, &edges);
    std::vector<int> per_gpu(N, 0);
    for (const ScheduleEdge& e : MergeContiguous(*t, edges, 1 << 20, 0, true))
      if (t->links[e.link].kind == LinkKind::kSwitch) ++per_gpu[t->links[e.link].dst];
    return *std::max_element(per_gpu.begin(), per_gpu.end());
  };
  std::vector<double> load_direct(t->num_resources(), 0), load_grouped(t->num_resources(), 0);
  std::vector<int> res;
  for (int c = 0; c < N; ++c) {
    std::vector<int> depth(N, -1);
    depth[c] = 0;
    for (int li : grouped.trees[c]) {
      const Link& l = t->links[li];
      ASSERT_GE(depth[l.src], 0) << "chunk " << c;
      ASSERT_EQ(depth[l.dst], -1) << "chunk " << c;
      depth[l.dst] = l.kind == LinkKind::kNetwork ? 0 : depth[l.src] + 1;
      EXPECT_LE(depth[l.dst], 2) << "chunk " << c;
      t->ResourcesOf(li, &res);
      for (int x : res) load_grouped[x] += l.Cost(32 << 10);
    }
    EXPECT_EQ(std::count(depth.begin(), depth.end(), -1), 0) << "chunk " << c;
    for (int li : direct.trees[c]) {
      t->ResourcesOf(li, &res);
      for (int x : res) load_direct[x] += t->links[li].Cost(32 << 10);
    }
  }
  for (int x = 0; x < t->num_resources(); ++x)
    if (t->ResourceName(x).find("switch") != std::string::npos) {
      EXPECT_NEAR(load_grouped[x], load_direct[x], 1e-9) << t->ResourceName(x);
    }
  EXPECT_GE(in_port_messages(direct), G - 1);
  EXPECT_LE(in_port_messages(grouped), 2 * (G / 4 + 4));
}

}  // namespace
}  // namespace loom::taccl
