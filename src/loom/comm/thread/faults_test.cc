// Faults and bad arguments: dead and stuck peers surface as Unavailable within the timeout,
// mismatched counts as InvalidArgument (checked mode, or the size check of a message), bad
// arguments as InvalidArgument naming the call and rank. Nothing hangs.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "loom/base/timer.h"
#include "loom/comm/communicator.h"
#include "loom/comm/thread/thread_transport.h"

namespace loom::comm {
namespace {

bool Contains(const Status& s, const std::string& text) {
  return s.message().find(text) != std::string::npos;
}

TEST(Faults, DeadPeerIsUnavailableWithoutWaitingForTheTimeout) {
  Stopwatch sw;
  auto st = thread::RunRanksEach(4, [](Communicator& c) -> Status {
    if (c.rank() == 2) return OkStatus();  // exits without taking part
    std::vector<float> v(100, 1.0f);
    return c.AllReduce(v.data(), v.data(), v.size(), DataType::kF32, ReduceOp::kSum);
  }, {.timeout_ms = 30000});
  EXPECT_LT(sw.ElapsedSeconds(), 10.0);
  int unavailable = 0;
  for (int r : {0, 1, 3}) {
    if (st[static_cast<size_t>(r)].code() == StatusCode::kUnavailable) ++unavailable;
  }
  EXPECT_GE(unavailable, 1);
  for (int r : {0, 1, 3}) EXPECT_FALSE(st[static_cast<size_t>(r)].ok()) << "rank " << r;
  // Someone names the exited rank.
  bool named = false;
  for (const Status& s : st) named = named || Contains(s, "rank 2");
  EXPECT_TRUE(named);
}

TEST(Faults, StuckPeerTimesOutAsUnavailable) {
  auto st = thread::RunRanksEach(3, [](Communicator& c) -> Status {
    if (c.rank() == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
      return OkStatus();
    }
    int64_t v = 1;
    return c.AllReduce(&v, &v, 1, DataType::kI64, ReduceOp::kSum);
  }, {.timeout_ms = 100});
  for (int r : {0, 2}) {
    EXPECT_EQ(st[static_cast<size_t>(r)].code(), StatusCode::kUnavailable) << st[static_cast<size_t>(r)];
  }
  EXPECT_TRUE(Contains(st[0], "did not complete within 100 ms") || Contains(st[2], "did not complete within 100 ms"))
      << st[0] << " / " << st[2];
}

TEST(Faults, CheckedModeNamesTheRankWithADifferentCount) {
  auto st = thread::RunRanksEach(4, [](Communicator& c) -> Status {
    std::vector<float> v(8, 1.0f);
    size_t count = c.rank() == 2 ? 5 : 4;
    return c.AllReduce(v.data(), v.data(), count, DataType::kF32, ReduceOp::kSum);
  }, {.checked = true});
  for (const Status& s : st) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
    EXPECT_TRUE(Contains(s, "checked mode: rank 2 passed count 5 but rank 0 passed count 4")) << s;
  }
}

TEST(Faults, CheckedModeCatchesAllToAllVCountDisagreement) {
  auto st = thread::RunRanksEach(2, [](Communicator& c) -> Status {
    std::vector<size_t> sc = {1, 1}, sd = {0, 1}, rc = {1, c.rank() == 0 ? size_t{2} : size_t{1}},
                        rd = {0, 1};
    std::vector<int32_t> send(2), recv(3);
    return c.AllToAllV(send.data(), sc, sd, recv.data(), rc, rd, DataType::kI32);
  }, {.checked = true});
  EXPECT_EQ(st[0].code(), StatusCode::kInvalidArgument) << st[0];
  EXPECT_TRUE(Contains(st[0], "rank 1 sends 1 elements but this rank expects 2")) << st[0];
}

TEST(Faults, UncheckedCountMismatchFailsInsteadOfCorrupting) {
  auto st = thread::RunRanksEach(2, [](Communicator& c) -> Status {
    std::vector<float> v(8, 1.0f);
    size_t count = c.rank() == 1 ? 6 : 4;
    return c.AllReduce(v.data(), v.data(), count, DataType::kF32, ReduceOp::kSum);
  }, {.timeout_ms = 2000});
  for (const Status& s : st) EXPECT_FALSE(s.ok());
  bool size_mismatch = false;
  // Point-to-point algorithms see the messages' sizes differ; the shared-memory collectives
  // compare the ranks' byte counts.
  for (const Status& s : st)
    size_mismatch = size_mismatch || Contains(s, "message size mismatch") ||
                    Contains(s, "(counts differ between ranks)");
  EXPECT_TRUE(size_mismatch) << st[0] << " / " << st[1];
}

TEST(Faults, BadArgumentsAreInvalidArgument) {
  Status s = thread::RunRanks(2, [](Communicator& c) -> Status {
    float x[4] = {};
    Status a = c.AllReduce(x, x, 4, DataType::kF32, ReduceOp::kAdasum);
    if (a.code() != StatusCode::kInvalidArgument || !Contains(a, "allreduce on rank"))
      return InternalError("adasum accepted: " + a.ToString());
    Status b = c.Broadcast(x, 4, DataType::kF32, 2);
    if (b.code() != StatusCode::kInvalidArgument || !Contains(b, "root 2 outside [0, 2)"))
      return InternalError("bad root accepted: " + b.ToString());
    Status n = c.AllGather(nullptr, x, 1, DataType::kF32);
    if (n.code() != StatusCode::kInvalidArgument) return InternalError("null accepted");
    Status g = c.AllGather(x, x + 2, 1, DataType::kF32, {.algorithm = Algorithm::kBinomial});
    if (g.code() != StatusCode::kInvalidArgument || !Contains(g, "does not implement allgather"))
      return InternalError("algorithm mismatch accepted: " + g.ToString());
    Status big = c.AllReduce(x, x, ~size_t{0} / 2, DataType::kF32, ReduceOp::kSum);
    if (big.code() != StatusCode::kInvalidArgument) return InternalError("overflow accepted");
    // All refused locally, so the ranks are still in step.
    return c.Barrier();
  });
  EXPECT_TRUE(s.ok()) << s;
  EXPECT_EQ(thread::RunRanks(0, [](Communicator&) { return OkStatus(); }).code(),
            StatusCode::kInvalidArgument);
}

TEST(Faults, TransportRejectsBadPeersAndTags) {
  auto ts = thread::MakeThreadWorld(2);
  std::byte b{};
  EXPECT_EQ(ts[0]->Isend(2, 0, {&b, 1}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ts[0]->Irecv(1, 40000, {&b, 1}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace loom::comm
