// End-to-end synthesis: every TACCL sketch solves; every emitted program executes correctly in
// the reference interpreter; simulated time never beats the cut bound; output is deterministic.
#include <gtest/gtest.h>

#include <string>

#include "loom/taccl/program.h"
#include "loom/taccl/reference_exec.h"
#include "loom/taccl/synthesizer.h"
#include "loom/taccl/taccl_files.h"

namespace loom::taccl {
namespace {

std::string Data(const std::string& name) { return std::string(LOOM_TACCL_TESTDATA) + "/" + name; }

struct Fixture {
  NodeProfile profile;
  Sketch sketch;
  Topology topo;
};

Fixture Load(const std::string& sketch_file) {
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

void ExpectSound(const SynthResult& r, const std::string& what) {
  EXPECT_TRUE(ExecuteAndCheck(r.program, 2, 2).ok()) << what << ": " << ExecuteAndCheck(r.program, 2, 2);
  EXPECT_LE(r.sim.algbw_gbs, r.bound.algbw_gbs * (1 + 1e-9)) << what << " beats the cut bound (" << r.bound.cut << ")";
  EXPECT_GE(r.gap, -1e-9) << what;
}

TEST(TacclSynth, AllElevenSketchesSolveAllGather) {
  for (const char* f : {"sk-dgx2-n1.json", "sk-ndv2-n1-cUp6.json", "sk1-dgx2-n1.json", "sk1-dgx2-n2.json",
                        "sk1-ndv2-n1.json", "sk1-ndv2-n2.json", "sk1-ndv2-n4.json", "sk2-dgx2-n2.json",
                        "sk2-ndv2-n2.json", "sk2-ndv2-n4.json", "sk3-ndv2-n2.json"}) {
    Fixture s = Load(f);
    SynthOptions o;
    o.coll = Collective::kAllGather;
    o.bytes = 1 << 20;
    auto r = Synthesize(s.topo, s.sketch, o);
    ASSERT_TRUE(r.ok()) << f << ": " << r.status();
    ExpectSound(*r, f);
  }
}

TEST(TacclSynth, EveryCollectiveExecutesCorrectly) {
  for (const char* f : {"sk1-ndv2-n2.json", "sk1-dgx2-n1.json", "sk3-ndv2-n2.json"}) {
    Fixture s = Load(f);
    for (Collective c : {Collective::kAllGather, Collective::kReduceScatter, Collective::kAllReduce,
                         Collective::kAllToAll, Collective::kBroadcast}) {
      SynthOptions o;
      o.coll = c;
      o.bytes = 4 << 20;
      o.root = c == Collective::kBroadcast ? 3 : 0;
      auto r = Synthesize(s.topo, s.sketch, o);
      std::string what = std::string(f) + " " + CollectiveName(c);
      ASSERT_TRUE(r.ok()) << what << ": " << r.status();
      ExpectSound(*r, what);
    }
  }
}

TEST(TacclSynth, DeterministicXml) {
  Fixture s = Load("sk1-ndv2-n2.json");
  SynthOptions o;
  o.bytes = 64 << 20;
  auto a = Synthesize(s.topo, s.sketch, o);
  auto b = Synthesize(s.topo, s.sketch, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(WriteXml(a->program, Dialect::kExecutor), WriteXml(b->program, Dialect::kExecutor));
  EXPECT_EQ(a->method, b->method);
}

TEST(TacclSynth, TinyTimeLimitStillReturnsAScheduleWithItsGap) {
  Fixture s = Load("sk1-ndv2-n4.json");
  SynthOptions o;
  o.coll = Collective::kAllToAll;
  o.time_limit_s = 1e-6;
  o.max_nodes = 1;
  auto r = Synthesize(s.topo, s.sketch, o);
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectSound(*r, "time-limited alltoall");
  EXPECT_GT(r->bound.time_us, 0);
}

TEST(TacclSynth, AllReduceIsNoWorseThanTheInversion) {
  Fixture s = Load("sk1-ndv2-n2.json");
  for (uint64_t bytes : {uint64_t{1} << 16, uint64_t{1} << 24}) {
    SynthOptions o;
    o.coll = Collective::kAllReduce;
    o.bytes = bytes;
    auto r = Synthesize(s.topo, s.sketch, o);
    ASSERT_TRUE(r.ok()) << r.status();
    double inversion = 0;
    for (const auto& c : r->candidates)
      if (c.name == "inversion") inversion = c.sim_us;
    ASSERT_GT(inversion, 0);
    EXPECT_LE(r->sim.time_us, inversion);
  }
}

TEST(TacclSynth, BeatsNcclRingOnTwoNdv2AtOneGigabyte) {
  Fixture s = Load("sk1-ndv2-n2.json");
  SynthOptions o;
  o.bytes = 1ull << 30;
  auto r = Synthesize(s.topo, s.sketch, o);
  ASSERT_TRUE(r.ok()) << r.status();
  auto ring = SimulateNcclRing(s.profile, 2, Collective::kAllGather, o.bytes);
  ASSERT_TRUE(ring.ok()) << ring.status();
  // NIC-bound: the ring crosses each NIC with 15/16 of the data, the relay schedule with 8/16.
  EXPECT_GT(r->sim.algbw_gbs, 1.6 * ring->algbw_gbs) << r->method;
  EXPECT_LT(ring->algbw_gbs, r->bound.algbw_gbs);
}

}  // namespace
}  // namespace loom::taccl
