// Test-only helpers shared by taccl's synthesis tests (taccl_test and taccl_slow_test): load a
// TACCL sketch from testdata onto its built-in node profile, and check a synthesis result the
// same way everywhere (the reference interpreter verifies every destination element; the
// simulated time never beats the cut bound). Not part of the library.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "loom/taccl/bounds.h"
#include "loom/taccl/ordering.h"
#include "loom/taccl/routing.h"
#include "loom/taccl/reference_exec.h"
#include "loom/taccl/simulator.h"
#include "loom/taccl/synthesizer.h"
#include "loom/taccl/taccl_files.h"

namespace loom::taccl::test_util {

inline std::string Data(const std::string& name) { return std::string(LOOM_TACCL_TESTDATA) + "/" + name; }

struct Fixture {
  NodeProfile profile;
  Sketch sketch;
  Topology topo;
};

inline Fixture Load(const std::string& sketch_file) {
  Fixture s;
  auto sk = ReadTacclSketch(Data(sketch_file));
  EXPECT_TRUE(sk.ok()) << sk.status();
  s.sketch = *sk;
  s.profile = sketch_file.find("dgx2") != std::string::npos ? Dgx2Profile() : Ndv2Profile();
  auto t = BuildTopology(s.profile, s.sketch);
  EXPECT_TRUE(t.ok()) << t.status();
  s.topo = *t;
  return s;
}

inline void ExpectSound(const SynthResult& r, const std::string& what) {
  Status run = ExecuteAndCheck(r.program, 2, 2);
  EXPECT_TRUE(run.ok()) << what << ": " << run;
  EXPECT_LE(r.sim.algbw_gbs, r.bound.algbw_gbs * (1 + 1e-9)) << what << " beats the cut bound (" << r.bound.cut << ")";
  EXPECT_GE(r.gap, -1e-9) << what;
}

// Synthesizes every collective at `bytes` on a sketch file and checks each result.
inline void ExpectEveryCollectiveSound(const std::string& sketch_file, uint64_t bytes) {
  Fixture s = Load(sketch_file);
  for (Collective c : {Collective::kAllGather, Collective::kReduceScatter, Collective::kAllReduce,
                       Collective::kAllToAll, Collective::kBroadcast}) {
    SynthOptions o;
    o.coll = c;
    o.bytes = bytes;
    o.root = c == Collective::kBroadcast ? 3 : 0;
    auto r = Synthesize(s.topo, s.sketch, o);
    std::string what = sketch_file + " " + CollectiveName(c);
    ASSERT_TRUE(r.ok()) << what << ": " << r.status();
    ExpectSound(*r, what);
  }
}

// Synthesizes AllGather, ReduceScatter and AllToAll at a latency- and a bandwidth-bound size on
// `nodes` nodes of `profile` (default sketch, greedy routing, the sketch's chunkup: the property,
// not the search, is under test) and checks that no simulated schedule, in either port model,
// beats the cut bound. Returns the number of schedules checked.
inline int ExpectCutBoundBelowEverySchedule(const NodeProfile& profile, int nodes) {
  Sketch sk = DefaultSketch(profile, nodes);
  auto topo = BuildTopology(profile, sk);
  EXPECT_TRUE(topo.ok()) << topo.status();
  if (!topo.ok()) return 0;
  int checked = 0;
  for (Collective c : {Collective::kAllGather, Collective::kReduceScatter, Collective::kAllToAll}) {
    for (uint64_t bytes : {uint64_t{64} << 10, uint64_t{32} << 20}) {
      SynthOptions o;
      o.coll = c;
      o.bytes = bytes;
      o.use_milp = false;
      o.chunkup_search = {1};
      auto res = Synthesize(*topo, sk, o);
      EXPECT_TRUE(res.ok()) << res.status();
      if (!res.ok()) continue;
      Bound b = CutBound(*topo, c, bytes);
      for (PortModel m : {PortModel::kShared, PortModel::kExclusive}) {
        SimOptions so;
        so.ports = m;
        auto r = Simulate(res->program, *topo, bytes, so);
        EXPECT_TRUE(r.ok()) << r.status();
        if (!r.ok()) continue;
        EXPECT_GE(r->time_us, b.time_us * (1 - 1e-9)) << profile.name << " x" << nodes << " " << CollectiveName(c) << " " << bytes;
        ++checked;
      }
    }
  }
  return checked;
}

// A tiny single-node topology for exhaustive checks: GPUs 0 - 1 - 2 (- 3) on a line of NVLinks
// with different costs per hop (and, with 4 GPUs, a slow chord 0 - 3), so the order of the sends
// on a link matters.
inline Topology TinyLine(int gpus) {
  NodeProfile p;
  p.name = "tiny-line";
  p.gpus = gpus;
  p.nics = 1;
  for (int g = 0; g + 1 < gpus; ++g) p.links.push_back({g, g + 1, 0.5 + 0.4 * g, (1 + g) / kMiB, true});
  if (gpus == 4) p.links.push_back({0, 3, 2.0, 3 / kMiB, true});
  auto t = BuildTopology(p, DefaultSketch(p, 1));
  EXPECT_TRUE(t.ok()) << t.status();
  return t.ok() ? *t : Topology{};
}

// The routed AllGather edges (greedy routing, `chunkup` chunks per rank) of `topo`'s default
// sketch, before contiguity.
inline std::vector<ScheduleEdge> AllGatherEdges(const Topology& topo, int chunkup, double chunk_bytes) {
  NodeProfile p;
  p.gpus = topo.gpus_per_node;
  p.nics = 1;
  Sketch sk = DefaultSketch(p, 1);
  RouteOptions ro;
  ro.use_milp = false;
  ro.chunk_bytes = chunk_bytes;
  std::vector<ScheduleEdge> edges;
  auto r = RouteChunks(topo, sk, Collective::kAllGather, chunkup, 0, ro);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok()) return edges;
  std::vector<int> sources(r->trees.size());
  for (size_t c = 0; c < sources.size(); ++c) sources[c] = static_cast<int>(c) / chunkup;
  AppendTreeEdges(topo, r->trees, sources, 0, nullptr, &edges);
  return edges;
}

}  // namespace loom::taccl::test_util
