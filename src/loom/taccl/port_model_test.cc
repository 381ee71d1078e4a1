// The simulator's port model, one test per rule (README "Model"): max-min fair shares against
// their defining condition, full-duplex links and separate egress / ingress resources, a shared
// port splitting its bandwidth, NIC sharing between the GPUs on one NIC, TACCL's exclusive
// model beside the shared one, and the cut bound never above any simulated schedule in either
// model (and reached where the optimum is known).
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "loom/base/random.h"
#include "loom/taccl/baselines.h"
#include "loom/taccl/bounds.h"
#include "loom/taccl/fair_share.h"
#include "loom/taccl/program.h"
#include "loom/taccl/simulator.h"
#include "loom/taccl/synth_test_util.h"
#include "loom/taccl/synthesizer.h"

namespace loom::taccl {
namespace {

TEST(TacclFairShare, RandomInstancesMeetTheMaxMinCondition) {
  Prng rng(7);
  for (int trial = 0; trial < 500; ++trial) {
    const int R = 1 + static_cast<int>(rng.Uniform(12));
    const int F = static_cast<int>(rng.Uniform(25));
    std::vector<std::array<int, 2>> flows;
    for (int f = 0; f < F; ++f) {
      int a = static_cast<int>(rng.Uniform(R));
      int b = rng.Uniform(3) == 0 ? -1 : static_cast<int>(rng.Uniform(R));
      if (b == a) b = -1;
      flows.push_back({a, b});
    }
    FairShare share(R);
    std::vector<double> rates;
    share.Rates(flows, &rates);
    ASSERT_EQ(rates.size(), flows.size());
    EXPECT_STREQ(CheckMaxMinFair(R, flows, rates), "") << "trial " << trial;
  }
  // By hand: resource 0 carries flows {0, 1, 2}, resource 1 carries {2, 3}: flows 0-2 get 1/3,
  // flow 3 takes what is left on resource 1, 2/3.
  FairShare share(2);
  std::vector<double> rates;
  share.Rates({{0, -1}, {0, -1}, {0, 1}, {1, -1}}, &rates);
  EXPECT_NEAR(rates[0], 1.0 / 3, 1e-12);
  EXPECT_NEAR(rates[2], 1.0 / 3, 1e-12);
  EXPECT_NEAR(rates[3], 2.0 / 3, 1e-12);
  // The checker rejects a feasible but unfair allocation.
  EXPECT_STRNE(CheckMaxMinFair(2, {{0, -1}, {0, 1}}, {0.25, 0.25}), "");
}

// One node of `gpus` GPUs on a switch (alpha 1 us, 1 us/MiB per port); with `nodes` > 1, one
// network link between every pair of GPUs on different nodes (alpha 1 us, 4 us/MiB per NIC) and
// `nics` NICs per node.
Topology SwitchTopology(int gpus, int nodes = 1, int nics = 1) {
  Topology t;
  t.name = "switch";
  t.num_nodes = nodes;
  t.gpus_per_node = gpus;
  t.nics_per_node = nics;
  t.nic_alpha_us = 1;
  t.nic_beta_us_per_byte = 4.0 / kMiB;
  const int n = nodes * gpus;
  for (int node = 0; node < nodes; ++node) {
    SwitchGroup sw;
    sw.alpha_us = 1;
    sw.beta_us_per_byte = 1.0 / kMiB;
    for (int g = 0; g < gpus; ++g) sw.ranks.push_back(node * gpus + g);
    t.switches.push_back(sw);
  }
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) {
      if (a == b) continue;
      bool net = a / gpus != b / gpus;
      t.links.push_back({a, b, net ? LinkKind::kNetwork : LinkKind::kSwitch, 1.0, (net ? 4.0 : 1.0) / kMiB});
    }
  EXPECT_TRUE(t.Finalize().ok());
  return t;
}

// A hand-built program: `sends` (src, dst) pairs, each one 1-chunk step on its own TB pair, all
// ready at t = 0; `after[i] = j` makes send i wait until send j has arrived at its source.
// Appends a one-step TB to `gpu`; returns its index.
int OneStepTb(Program* p, int gpu, int send, int recv, int chan, StepType type) {
  ThreadBlock tb;
  tb.send = send;
  tb.recv = recv;
  tb.chan = chan;
  Step st;
  st.type = type;
  tb.steps.push_back(st);
  p->gpus[gpu].tbs.push_back(tb);
  return static_cast<int>(p->gpus[gpu].tbs.size()) - 1;
}

Program Sends(int gpus, const std::vector<std::pair<int, int>>& sends, const std::vector<int>& after = {}) {
  Program p;
  p.gpus.assign(gpus, {});
  p.nchunksperloop = 1;
  std::vector<int> recv_tb(sends.size());  // each receive is step 0 of its TB
  for (size_t i = 0; i < sends.size(); ++i)
    recv_tb[i] = OneStepTb(&p, sends[i].second, -1, sends[i].first, static_cast<int>(i), StepType::kRecv);
  for (size_t i = 0; i < sends.size(); ++i) {
    auto [s, d] = sends[i];
    int tb = OneStepTb(&p, s, d, -1, static_cast<int>(i), StepType::kSend);
    if (i < after.size() && after[i] >= 0) {
      Step& st = p.gpus[s].tbs[tb].steps[0];
      st.depid = recv_tb[after[i]];
      st.deps = 0;
      p.gpus[s].tbs[st.depid].steps[0].hasdep = true;
    }
  }
  return p;
}

double Time(const Program& p, const Topology& t, PortModel ports) {
  SimOptions o;
  o.ports = ports;
  o.local_beta_us_per_byte = 0;
  auto r = Simulate(p, t, static_cast<uint64_t>(kMiB) * p.nchunksperloop, o);  // 1 MiB chunks
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->time_us : -1;
}

constexpr double kW = 2;  // a 1 MiB switch send: 1 us alpha + 1 us/MiB

TEST(TacclPortModel, LinksAreFullDuplexAndEgressIsSeparateFromIngress) {
  Topology t = SwitchTopology(4);
  for (PortModel m : {PortModel::kShared, PortModel::kExclusive}) {
    EXPECT_DOUBLE_EQ(Time(Sends(4, {{0, 1}, {1, 0}}), t, m), kW);          // both directions at once
    EXPECT_DOUBLE_EQ(Time(Sends(4, {{0, 1}, {2, 0}}), t, m), kW);          // 0's egress and ingress
    EXPECT_DOUBLE_EQ(Time(Sends(4, {{0, 1}, {2, 3}}), t, m), kW);          // disjoint ports
    EXPECT_DOUBLE_EQ(Time(Sends(4, {{0, 1}, {0, 2}}), t, m), 2 * kW);      // one egress, twice the work
    EXPECT_DOUBLE_EQ(Time(Sends(4, {{1, 0}, {2, 0}, {3, 0}}), t, m), 3 * kW);  // one ingress
  }
}

TEST(TacclPortModel, ASharedPortSplitsItsBandwidthInsteadOfServingOneSendFirst) {
  // 0 -> 1 and 0 -> 2 start together; 1 forwards to 3 once its data has arrived. Shared: both
  // sends of GPU 0 run at half rate and arrive at 2W, the forward ends at 3W. Exclusive: 0 -> 1
  // goes first (arrives at W), the forward overlaps 0 -> 2: 2W. The shared model is not the
  // optimistic one here; it is the one a packet switch follows.
  Topology t = SwitchTopology(4);
  Program p = Sends(4, {{0, 1}, {0, 2}, {1, 3}}, {-1, -1, 0});
  EXPECT_DOUBLE_EQ(Time(p, t, PortModel::kShared), 3 * kW);
  EXPECT_DOUBLE_EQ(Time(p, t, PortModel::kExclusive), 2 * kW);
}

TEST(TacclPortModel, SharesFollowTheSendsInFlight) {
  // 0 -> 1 and 2 -> 1 share 1's ingress while 2 -> 1 and 2 -> 3 share 2's egress: all at half
  // rate, 2W (exclusive: 0 -> 1 first, 2 -> 3 beside it, 2 -> 1 after, also 2W).
  Topology t = SwitchTopology(4);
  for (PortModel m : {PortModel::kShared, PortModel::kExclusive})
    EXPECT_DOUBLE_EQ(Time(Sends(4, {{0, 1}, {2, 1}, {2, 3}}), t, m), 2 * kW);
  // 0 -> 1 and 0 -> 2 in flight, then 0 -> 2 leaves at 2W and 0 -> 1's second step (queued on
  // its TB) runs alone: shared 2W + W; exclusive the same 3W of egress work.
  Program p = Sends(4, {{0, 1}, {0, 2}});
  Step again = p.gpus[0].tbs.back().steps[0];
  p.gpus[0].tbs[p.gpus[0].tbs.size() - 2].steps.push_back(again);  // 0 -> 1 sends twice
  p.gpus[1].tbs[0].steps.push_back(p.gpus[1].tbs[0].steps[0]);
  for (PortModel m : {PortModel::kShared, PortModel::kExclusive}) EXPECT_DOUBLE_EQ(Time(p, t, m), 3 * kW);
}

TEST(TacclPortModel, GpusOnOneNicShareIt) {
  // Two nodes of two GPUs; GPU 0 -> 2 and 1 -> 3 cross the network together. One NIC per node:
  // both use NIC 0's egress and NIC 1's ingress, 2 Wn in all. Two NICs per node: Wn.
  const double wn = 1 + 4;  // network alpha + 1 MiB at 4 us/MiB
  Topology one = SwitchTopology(2, 2, 1), two = SwitchTopology(2, 2, 2);
  for (PortModel m : {PortModel::kShared, PortModel::kExclusive}) {
    EXPECT_DOUBLE_EQ(Time(Sends(4, {{0, 2}, {1, 3}}), one, m), 2 * wn);
    EXPECT_DOUBLE_EQ(Time(Sends(4, {{0, 2}, {1, 3}}), two, m), wn);
    // A network send does not use the switch ports: 0 -> 2 and 0 -> 1 overlap.
    EXPECT_DOUBLE_EQ(Time(Sends(4, {{0, 2}, {0, 1}}), one, m), wn);
  }
}

TEST(TacclPortModel, CutBoundNeverExceedsASimulatedScheduleInEitherModel) {
  // Every schedule the synthesizer produces on 2xNDv2 (NVLink and network), in both port models,
  // at latency- and bandwidth-bound sizes; switch topologies: taccl_slow_test.
  EXPECT_EQ(test_util::ExpectCutBoundBelowEverySchedule(Ndv2Profile(), 2), 12);
}

TEST(TacclPortModel, CutBoundIsReachedWhereTheOptimumIsKnown) {
  // Two GPUs on a switch exchanging one chunk each: the optimum is one send, alpha + beta * S/2,
  // and so is the bound.
  Topology t = SwitchTopology(2);
  Program p = Sends(2, {{0, 1}, {1, 0}});
  p.coll = Collective::kAllGather;
  p.nchunksperloop = 2;
  Bound b = CutBound(t, Collective::kAllGather, static_cast<uint64_t>(2 * kMiB));
  EXPECT_DOUBLE_EQ(b.time_us, kW);
  EXPECT_DOUBLE_EQ(Time(p, t, PortModel::kShared), kW);
  // A single DGX-2 node, AllGather of 1 GiB: sending directly to all saturates every in-port,
  // so the synthesized schedule is within the per-message alpha (0.3 us per 2 MiB message,
  // ~2 %) and the pipeline start of the bound in the shared model.
  Sketch sk = DefaultSketch(Dgx2Profile(), 1);
  auto dgx = BuildTopology(Dgx2Profile(), sk);
  ASSERT_TRUE(dgx.ok());
  SynthOptions o;
  o.bytes = uint64_t{1} << 30;
  o.use_milp = false;
  auto res = Synthesize(*dgx, sk, o);
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_GE(res->sim.time_us, res->bound.time_us);
  EXPECT_LE(res->sim.time_us, 1.05 * res->bound.time_us) << res->method;
}

}  // namespace
}  // namespace loom::taccl
