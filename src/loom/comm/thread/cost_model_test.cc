// The α-β-γ closed forms (cost_model.h) against the schedules loom's algorithms really run:
// each collective × algorithm × rank count is recorded on thread ranks (traced_collective.h)
// and replayed under the port model (schedule_trace.h) once per term (α only: messages on the
// critical path; β only: bytes on it; γ only: bytes reduced on it) and with all three; every
// replay must equal the closed form, at every rank count (powers of two or not) and root.
// Also the replay's own rules on hand-made traces.
#include "loom/comm/cost_model.h"

#include <cmath>

#include <gtest/gtest.h>

#include "loom/base/strings.h"
#include "loom/comm/schedule_trace.h"
#include "loom/comm/thread/traced_collective.h"

namespace loom::comm {
namespace {

const CostParams kAlphaOnly{1, 0, 0}, kBetaOnly{0, 1, 0}, kGammaOnly{0, 0, 1},
    kAll{2.5e-6, 1.0 / 12e9, 1.0 / 30e9};

// Sizes whose blocks divide evenly at every rank count below (the closed forms' assumption):
// 5040 = 2^4·3^2·5·7 elements for the whole-vector collectives, 48 per rank for the others.
size_t BytesFor(CollectiveKind kind, int p) {
  const bool whole = kind == CollectiveKind::kAllReduce || kind == CollectiveKind::kBroadcast ||
                     kind == CollectiveKind::kReduce;
  return whole ? 5040 * 4 : static_cast<size_t>(p) * 48 * 4;
}

void ExpectReplayEqualsModel(CollectiveKind kind, int p, int root = 0) {
  const size_t bytes = BytesFor(kind, p);
  for (Algorithm a : ModelledAlgorithms(kind, p)) {
    auto traces = thread::TraceCollective(kind, a, p, bytes, root);
    ASSERT_TRUE(traces.ok()) << traces.status();
    for (const CostParams& c : {kAlphaOnly, kBetaOnly, kGammaOnly, kAll}) {
      auto replay = ReplaySeconds(*traces, c);
      auto model = ModelSeconds(kind, a, p, bytes, c);
      ASSERT_TRUE(replay.ok() && model.ok()) << replay.status() << model.status();
      const double tolerance = 1e-9 * std::max(1.0, std::abs(*model));
      EXPECT_NEAR(*replay, *model, tolerance)
          << CollectiveKindName(kind) << " " << AlgorithmName(a) << " p=" << p << " root=" << root
          << " params (" << c.alpha_s << ", " << c.beta_s_per_byte << ", " << c.gamma_s_per_byte
          << ")";
    }
  }
}

constexpr int kRanks[] = {1, 2, 3, 4, 5, 7, 8, 16};

TEST(CostModel, AllReduceSchedulesTakeTheClosedFormTimes) {
  for (int p : kRanks) ExpectReplayEqualsModel(CollectiveKind::kAllReduce, p);
}

TEST(CostModel, AllGatherAndReduceScatterSchedulesTakeTheClosedFormTimes) {
  for (int p : kRanks) {
    ExpectReplayEqualsModel(CollectiveKind::kAllGather, p);
    ExpectReplayEqualsModel(CollectiveKind::kReduceScatter, p);
  }
}

TEST(CostModel, AllToAllSchedulesTakeTheClosedFormTimes) {
  for (int p : kRanks) {
    ExpectReplayEqualsModel(CollectiveKind::kAllToAll, p);
    ExpectReplayEqualsModel(CollectiveKind::kAllToAllV, p);
  }
}

TEST(CostModel, RootedSchedulesTakeTheClosedFormTimes) {
  for (int p : kRanks)
    for (int root : {0, p - 1})
      for (CollectiveKind k : {CollectiveKind::kBroadcast, CollectiveKind::kReduce,
                               CollectiveKind::kGather, CollectiveKind::kScatter})
        ExpectReplayEqualsModel(k, p, root);
}

TEST(CostModel, ChoiceFollowsTheTerms) {
  // Latency-bound: recursive doubling's lg p messages; bandwidth-bound: the ring's
  // 2(p−1)/p·n (halving-doubling ties it in β and has fewer α, so it wins at p = 2^k).
  const CostParams latency{1e-5, 1e-12, 0}, bandwidth{1e-9, 1e-9, 1e-9};
  EXPECT_EQ(*ModelChoice(CollectiveKind::kAllReduce, 8, 64, latency),
            Algorithm::kRecursiveDoubling);
  EXPECT_EQ(*ModelChoice(CollectiveKind::kAllReduce, 8, 64 << 20, bandwidth),
            Algorithm::kHalvingDoubling);
  // At 6 ranks halving-doubling pays the fold (a whole vector in and out): the ring wins.
  EXPECT_EQ(*ModelChoice(CollectiveKind::kAllReduce, 6, 64 << 20, bandwidth), Algorithm::kRing);
  EXPECT_EQ(*ModelChoice(CollectiveKind::kAllGather, 6, 1024, latency), Algorithm::kBruck);
}

TEST(CostModel, RefusesWhatNoAlgorithmImplements) {
  EXPECT_EQ(ModelSeconds(CollectiveKind::kAllGather, Algorithm::kRecursiveDoubling, 6, 1024, kAll)
                .status()
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ModelSeconds(CollectiveKind::kAllReduce, Algorithm::kShm, 4, 1024, kAll).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ModelSeconds(CollectiveKind::kAllReduce, Algorithm::kRing, 0, 1024, kAll).status().code(),
      StatusCode::kInvalidArgument);
  EXPECT_FALSE(thread::TraceCollective(CollectiveKind::kBroadcast, Algorithm::kRing, 4, 64).ok());
}

TEST(CostModel, FitRecoversAlphaAndBetaAcrossSizes) {
  std::vector<std::pair<size_t, double>> exact, noisy;
  for (size_t b = 8; b <= (size_t{4} << 20); b *= 8) {
    const double t = 2e-6 + static_cast<double>(b) / 10e9;
    exact.push_back({b, t});
    noisy.push_back({b, t * (b % 16 == 0 ? 1.03 : 0.97)});  // ±3 %
  }
  auto c = FitAlphaBeta(exact);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_NEAR(c->alpha_s, 2e-6, 1e-12);
  EXPECT_NEAR(c->beta_s_per_byte, 1e-10, 1e-16);
  auto n = FitAlphaBeta(noisy);
  ASSERT_TRUE(n.ok());
  EXPECT_NEAR(n->alpha_s, 2e-6, 0.1e-6);
  EXPECT_NEAR(n->beta_s_per_byte, 1e-10, 0.05e-10);
  // Pure bandwidth with a little negative intercept: α clamps to 0, β refits.
  auto z = FitAlphaBeta({{1 << 20, 1e-4}, {4 << 20, 4.2e-4}});
  ASSERT_TRUE(z.ok());
  EXPECT_EQ(z->alpha_s, 0);
  EXPECT_GT(z->beta_s_per_byte, 0);
  EXPECT_EQ(FitAlphaBeta({{8, 1e-6}, {8, 2e-6}}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(FitAlphaBeta({{8, 1e-6}, {64, 0}}).status().code(), StatusCode::kInvalidArgument);
}

// Hand-made traces: the port rules themselves.
TraceEvent Send(int peer, size_t bytes, int64_t op) {
  return {.kind = TraceEvent::kSend, .peer = peer, .tag = 0, .bytes = bytes, .op = op};
}
TraceEvent Recv(int peer, size_t bytes, int64_t op) {
  return {.kind = TraceEvent::kRecv, .peer = peer, .tag = 0, .bytes = bytes, .op = op};
}
TraceEvent Wait(int64_t op) { return {.kind = TraceEvent::kWait, .op = op}; }

TEST(ScheduleReplay, ASendersMessagesShareItsPortAndAReceiversShareIts) {
  // Rank 0 posts two sends at once: the second waits for the port (2·(α + bβ)).
  std::vector<RankTrace> fan_out = {{Send(1, 10, 0), Send(2, 10, 1), Wait(0), Wait(1)},
                                    {Recv(0, 10, 0), Wait(0)},
                                    {Recv(0, 10, 0), Wait(0)}};
  EXPECT_DOUBLE_EQ(*ReplaySeconds(fan_out, {1, 0.5, 0}), 12.0);
  // Two senders to one receiver: its receive port serialises them too.
  std::vector<RankTrace> fan_in = {{Recv(1, 10, 0), Recv(2, 10, 1), Wait(0), Wait(1)},
                                   {Send(0, 10, 0), Wait(0)},
                                   {Send(0, 10, 0), Wait(0)}};
  EXPECT_DOUBLE_EQ(*ReplaySeconds(fan_in, {1, 0.5, 0}), 12.0);
  // A reduction between two receives delays the next send by b·γ.
  std::vector<RankTrace> chain = {
      {Send(1, 4, 0), Wait(0)},
      {Recv(0, 4, 0), Wait(0), {.kind = TraceEvent::kReduce, .bytes = 8}, Send(2, 4, 1), Wait(1)},
      {Recv(1, 4, 0), Wait(0)}};
  EXPECT_DOUBLE_EQ(*ReplaySeconds(chain, {1, 1, 2}), 5 + 16 + 5);
}

TEST(ScheduleReplay, AMessageStartsOnlyOnceItsReceiveIsPosted) {
  // Rank 1 reduces for 10 before posting the receive: rendezvous, so the transfer starts at 10,
  // and rank 0's second message (to rank 2, posted later) is not held behind it.
  std::vector<RankTrace> late = {
      {Send(1, 4, 0), Send(2, 4, 1), Wait(0), Wait(1)},
      {{.kind = TraceEvent::kReduce, .bytes = 10}, Recv(0, 4, 0), Wait(0)},
      {Recv(0, 4, 0), Wait(0)}};
  EXPECT_DOUBLE_EQ(*ReplaySeconds(late, {1, 1, 1}), 15.0);
}

TEST(ScheduleReplay, MismatchedAndDeadlockedTracesAreInvalidArgument) {
  std::vector<RankTrace> unmatched = {{Send(1, 4, 0), Wait(0)}, {}};
  EXPECT_NE(ReplaySeconds(unmatched, kAll).status().message().find("1 sends from rank 0 to rank 1"),
            std::string::npos);
  // Each rank waits for a receive before posting its send.
  std::vector<RankTrace> deadlock = {{Recv(1, 4, 0), Wait(0), Send(1, 4, 1), Wait(1)},
                                     {Recv(0, 4, 0), Wait(0), Send(0, 4, 1), Wait(1)}};
  EXPECT_NE(ReplaySeconds(deadlock, kAll).status().message().find("deadlocks"), std::string::npos);
  std::vector<RankTrace> unknown = {{Wait(7)}};
  EXPECT_EQ(ReplaySeconds(unknown, kAll).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace loom::comm
