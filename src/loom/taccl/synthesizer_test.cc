// End-to-end synthesis on 2xNDv2: every collective's program executes correctly in the reference
// interpreter and never beats the cut bound; output is deterministic; AllReduce is no worse than
// the inversion; 1 GiB AllGather beats NCCL's ring. Every sketch, DGX-2 and the time limit:
// synthesizer_slow_test.cc.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>

#include "loom/taccl/program.h"
#include "loom/taccl/synth_test_util.h"
#include "loom/taccl/synthesizer.h"

namespace loom::taccl {
namespace {

using test_util::ExpectEveryCollectiveSound;
using test_util::ExpectSound;
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

// The alpha-aware floor of any 2xNDv2 AllGather with one relay GPU per node (taccl README,
// Status), by brute force over network plans: messages s_1..s_m (4 KiB steps, m <= 4) of the 512
// KiB a node sends; the first leaves once its bytes beyond the sender's own 64 KiB are gathered
// (0.3 us + 23/3 us/MiB: a GPU receives at most 3/23 MiB/us), the NIC serves them in order
// (2.6 us + 105 us/MiB each), and each must still be spread after it lands (0.3 us + 23/3
// us/MiB x s_k). Slow and obvious on purpose.
double Ndv2RelayFloorUs() {
  const double nvl = 23.0 / 3.0 / kMiB, nic_a = 2.6, nic_b = 105.0 / kMiB, own = 64 << 10;
  const int steps = 128;  // 512 KiB in 4 KiB steps
  const double step = 4096;
  double best = 1e30;
  std::function<void(int, int, double, double)> go = [&](int left, int msgs, double t, double worst) {
    if (left == 0) {
      best = std::min(best, worst);
      return;
    }
    if (msgs == 4) return;
    for (int n = 1; n <= left; ++n) {
      const double sz = n * step;
      double start = t;
      if (msgs == 0) start = sz > own ? 0.3 + nvl * (sz - own) : 0;
      const double land = start + nic_a + nic_b * sz;
      go(left - n, msgs + 1, land, std::max(worst, land + 0.3 + nvl * sz));
    }
  };
  go(steps, 0, 0, 0);
  return best;
}

// 2xNDv2 at 1 MiB (the issue's >= 1 MB row): the landed-spread routings and network plans give
// AllGather / ReduceScatter schedules that execute correctly, never beat the floor any schedule
// obeys, and (a regression guard on the deterministic simulator, not a timing) reach 0.85 / 0.81
// of the cut bound (0.804 / 0.803 with BFS-level routing only).
TEST(TacclSynth, TwoNdv2OneMebibyteApproachesTheAlphaAwareFloor) {
  const double floor_us = Ndv2RelayFloorUs();
  EXPECT_NEAR(floor_us, 60.66, 0.01);  // the README's derivation
  Fixture s = Load("sk1-ndv2-n2.json");
  for (Collective coll : {Collective::kAllGather, Collective::kReduceScatter}) {
    SynthOptions o;
    o.coll = coll;
    o.bytes = 1 << 20;
    auto r = Synthesize(s.topo, s.sketch, o);
    ASSERT_TRUE(r.ok()) << r.status();
    ExpectSound(*r, r->method);
    EXPECT_GE(r->sim.time_us, floor_us) << r->method;  // ReduceScatter: the mirror argument
    EXPECT_GE(r->bound.time_us / r->sim.time_us, coll == Collective::kAllGather ? 0.85 : 0.81) << r->method;
  }
}

}  // namespace
}  // namespace loom::taccl
