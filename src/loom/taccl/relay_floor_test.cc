// The alpha-aware floor of any 2xNDv2 AllGather (and, by time reversal, ReduceScatter) at 1 MiB
// with one landing GPU per node (sk1), for every MSCCL-expressible chunk count, and the check
// that loom's 1 MiB schedules never beat it (taccl README, Status: why 0.9 of the cut bound is
// out of reach there). Slow and obvious on purpose: a brute force over network plans with a
// closed-form relaxation of the spreading, no code shared with the synthesizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "loom/comm/program/validate.h"
#include "loom/taccl/bounds.h"
#include "loom/taccl/synth_test_util.h"
#include "loom/taccl/synthesizer.h"

namespace loom::taccl {
namespace {

using test_util::Fixture;
using test_util::Load;

// One in-link of a GPU v two hops from the landing GPU: data landed at time 0 cannot finish
// crossing it before `offset` (one alpha per send on the way: 2 from a neighbour of the landing
// GPU, 3 from another GPU two hops away); a link that carries b bytes in one send must first
// wait until its sender holds all b (at best at `fill_beta` per byte), with two or more sends it
// pays a second alpha instead, so its time is offset + beta b + min(fill_beta b, alpha).
struct InLink {
  double offset, beta, fill_beta;
};

struct SpreadModel {
  double alpha = 0;
  std::vector<std::vector<InLink>> far;  // per GPU two hops from the landing GPU
  double sender_ingress_beta = 0;        // us per byte into the sending GPU, all its links
};

// NDv2's links in local indices: beta[a][b] (0 = no link).
std::vector<std::vector<double>> Betas(const NodeProfile& p, double* alpha) {
  std::vector<std::vector<double>> beta(p.gpus, std::vector<double>(p.gpus, 0));
  for (const auto& l : p.links) {
    beta[l.a][l.b] = l.beta_us_per_byte;
    if (l.both) beta[l.b][l.a] = l.beta_us_per_byte;
    *alpha = l.alpha_us;
  }
  return beta;
}

SpreadModel Model(const NodeProfile& p, int landing, int sender) {
  SpreadModel m;
  auto beta = Betas(p, &m.alpha);
  const int n = p.gpus;
  std::vector<int> dist(n, 2);
  dist[landing] = 0;
  for (int x = 0; x < n; ++x)
    if (beta[landing][x] > 0) dist[x] = 1;
  for (int v = 0; v < n; ++v) {
    if (dist[v] != 2) continue;
    std::vector<InLink> in;
    for (int x = 0; x < n; ++x) {
      if (beta[x][v] == 0) continue;
      EXPECT_NE(dist[x], 0);  // v is two hops away
      if (dist[x] == 1) {
        in.push_back({2 * m.alpha, beta[x][v], beta[landing][x]});
      } else {
        double rate = 0;  // x fills from the landing GPU's neighbours only before 3 alphas
        for (int y = 0; y < n; ++y)
          if (beta[y][x] > 0 && dist[y] == 1) rate += 1 / beta[y][x];
        in.push_back({3 * m.alpha, beta[x][v], 1 / rate});
      }
    }
    m.far.push_back(in);
  }
  double rate = 0;
  for (int y = 0; y < n; ++y)
    if (beta[y][sender] > 0) rate += 1 / beta[y][sender];
  m.sender_ingress_beta = 1 / rate;
  return m;
}

// Bytes an in-link can deliver by time t after the landing (the inverse of its time).
double LinkBytes(const InLink& l, double alpha, double t) {
  if (t <= l.offset) return 0;
  const double knee = alpha / l.fill_beta;  // bytes where a second send starts paying off
  if (t - l.offset <= (l.beta + l.fill_beta) * knee) return (t - l.offset) / (l.beta + l.fill_beta);
  return (t - l.offset - alpha) / l.beta;
}

// Time after a landing until every GPU two hops away can hold `bytes` landed then (or later).
double SpreadUs(const SpreadModel& m, double bytes) {
  if (bytes <= 0) return 0;
  double worst = 0;
  for (const auto& in : m.far) {
    double lo = 0, hi = 1e3;
    for (int it = 0; it < 100; ++it) {
      const double mid = (lo + hi) / 2;
      double got = 0;
      for (const InLink& l : in) got += LinkBytes(l, m.alpha, mid);
      (got >= bytes ? hi : lo) = mid;
    }
    worst = std::max(worst, hi);
  }
  return worst;
}

// The floor at chunkup k: every plan of 1..3 network messages of whole chunks (each < MSCCL's
// cnt limit) in landing order; 4 or more messages cost >= 4 NIC alphas + the bytes already.
// The first landed message leaves once its bytes beyond the sender's own are gathered (under
// both port models: a message started earlier and landing later is bigger, so it waits longer);
// message j lands no earlier than the NIC's work up to it; everything landed from message j on
// must still be spread after message j lands.
double FloorUs(const NodeProfile& p, const SpreadModel& m, int k) {
  const double own = static_cast<double>(1 << 20) / (2 * p.gpus), chunk = own / k;
  const double nic_a = p.nic_alpha_us, nic_b = p.nic_beta_us_per_byte;
  const int n = p.gpus * k;  // chunks a node sends
  const int cap = comm::program::kMaxCount - 1;
  std::vector<double> spread(n + 1);
  for (int c = 0; c <= n; ++c) spread[c] = SpreadUs(m, c * chunk);
  double best = 4 * nic_a + nic_b * n * chunk;
  auto plan = [&](const std::vector<int>& msgs) {
    double t = msgs[0] * chunk > own ? m.alpha + m.sender_ingress_beta * (msgs[0] * chunk - own) : 0;
    double worst = 0;
    int left = n;
    for (int c : msgs) {
      if (c > cap) return;
      t += nic_a + nic_b * c * chunk;
      worst = std::max(worst, t + spread[left]);
      left -= c;
    }
    best = std::min(best, worst);
  };
  plan({n});
  for (int a = 1; a < n; ++a) {
    plan({a, n - a});
    for (int c = 1; a + c < n; ++c) plan({a, n - a - c, c});
  }
  return best;
}

// sk1: local GPU 0 sends, the remote GPU 1 receives. AllGather spreads from GPU 1; a
// ReduceScatter run backwards in time is an AllGather on the transpose (same NDv2 links) from
// GPU 1 landing at GPU 0, so its floor is that one's.
constexpr int kAgLanding = 1, kAgSender = 0, kRsLanding = 0, kRsSender = 1;

TEST(TacclRelayFloor, NinetyPercentOfTheCutBoundIsOutOfReachAtOneMebibyte) {
  Fixture s = Load("sk1-ndv2-n2.json");
  const double cut = CutBound(s.topo, Collective::kAllGather, 1 << 20).time_us;
  EXPECT_NEAR(cut, 55.1, 1e-9);  // 512 KiB at 105 us/MiB + one 2.6 us alpha
  for (auto [landing, sender] : {std::pair{kAgLanding, kAgSender}, std::pair{kRsLanding, kRsSender}}) {
    const SpreadModel m = Model(s.profile, landing, sender);
    ASSERT_EQ(m.far.size(), 3u);  // every NDv2 GPU has 4 neighbours
    double best_ratio = 0;
    for (int k = 1; k <= 64; ++k) {
      const double ratio = cut / FloorUs(s.profile, m, k);
      best_ratio = std::max(best_ratio, ratio);
      // chunkup 7 (64 / 439 / 9 KiB in chunks of 9.14 KiB) clears 0.9 by 0.003 us in this
      // relaxation only; the README excludes it by hand for AllGather (the last chunk cannot
      // reach every GPU within the 0.92 us left after the NIC's 60.3 us), not for RS.
      if (k == 7) {
        EXPECT_GT(ratio, 0.9) << landing;
        EXPECT_LT(ratio, 0.9001) << landing;
      } else {
        EXPECT_LT(ratio, 0.9) << landing << " k " << k;
      }
    }
    EXPECT_LT(best_ratio, 0.9001);
  }
}

// 2xNDv2 at 1 MiB (the issue's >= 1 MB row): the landed-spread routings and network plans give
// AllGather / ReduceScatter schedules that execute correctly, never beat the floor at their
// chunkup, and (a regression guard on the deterministic simulator, not a timing) reach 0.85 /
// 0.82 of the cut bound (0.804 / 0.803 with BFS-level routing only).
TEST(TacclRelayFloor, TwoNdv2OneMebibyteNeverBeatsTheFloor) {
  Fixture s = Load("sk1-ndv2-n2.json");
  for (Collective coll : {Collective::kAllGather, Collective::kReduceScatter}) {
    SynthOptions o;
    o.coll = coll;
    o.bytes = 1 << 20;
    auto r = Synthesize(s.topo, s.sketch, o);
    ASSERT_TRUE(r.ok()) << r.status();
    test_util::ExpectSound(*r, r->method);
    const bool ag = coll == Collective::kAllGather;
    const SpreadModel m = Model(s.profile, ag ? kAgLanding : kRsLanding, ag ? kAgSender : kRsSender);
    EXPECT_GE(r->sim.time_us, FloorUs(s.profile, m, r->algo.chunkup)) << r->method;
    EXPECT_GE(r->bound.time_us / r->sim.time_us, ag ? 0.85 : 0.82) << r->method;
  }
}

}  // namespace
}  // namespace loom::taccl
