// End-to-end synthesis on 2xNDv2: every collective's program executes correctly in the reference
// interpreter and never beats the cut bound; output is deterministic; AllReduce is no worse than
// the inversion; 1 GiB AllGather beats NCCL's ring. Every sketch, DGX-2 and the time limit:
// synthesizer_slow_test.cc; the 1 MiB floor: relay_floor_test.cc.
#include <gtest/gtest.h>

#include <string>

#include "loom/taccl/program.h"
#include "loom/taccl/synth_test_util.h"
#include "loom/taccl/synthesizer.h"

namespace loom::taccl {
namespace {

using test_util::ExpectEveryCollectiveSound;
using test_util::Fixture;
using test_util::Load;

// The smallest instance with a network relay: every collective at 4 MiB on 2xNDv2 (the other
// sketches, DGX-2 included, are in taccl_slow_test).
TEST(TacclSynth, EveryCollectiveExecutesCorrectlyOnTwoNdv2) { ExpectEveryCollectiveSound("sk1-ndv2-n2.json", 4 << 20); }

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
