// comm_nccl without a device (label unit, so CI runs it): argument checks, a missing device,
// and the benchmark's option and device checks, which must fail on every rank, never hang.
#include <vector>

#include <gtest/gtest.h>

#include "loom/comm/nccl/bench.h"
#include "loom/comm/nccl/nccl_comm.h"
#include "loom/comm/thread/thread_transport.h"

namespace loom::comm::nccl {
namespace {

TEST(Nccl, MissingDeviceIsFailedPrecondition) {
  Status s = thread::RunRanks(1, [](Communicator& host) -> Status {
    auto nc = NcclCommunicator::Create(host, DeviceCount() + 3);
    return nc.status().code() == StatusCode::kFailedPrecondition
               ? OkStatus()
               : InternalError(nc.status().ToString());
  });
  EXPECT_TRUE(s.ok()) << s;
}

TEST(Nccl, JoinChecksRankAndSize) {
  UniqueId id{};
  EXPECT_EQ(NcclCommunicator::Join(id, 2, 2, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NcclCommunicator::Join(id, 0, 0, 0).status().code(), StatusCode::kInvalidArgument);
}

TEST(NcclBench, BadOptionsAreInvalidArgument) {
  auto nothing = [](const auto&) {};
  BenchOptions o;
  o.collectives = {"gather"};
  Status s = RunBench(o, nothing, nothing);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("'gather'"), std::string::npos) << s;
  o.collectives = {};
  o.factor = 1;
  EXPECT_EQ(RunBench(o, nothing, nothing).code(), StatusCode::kInvalidArgument);
  o.factor = 2;
  o.min_bytes = 1024;
  o.max_bytes = 8;
  EXPECT_EQ(RunBench(o, nothing, nothing).code(), StatusCode::kInvalidArgument);
}

// Rank 1 names a device that does not exist: both ranks return FailedPrecondition before NCCL
// is touched (rank 0 must not wait in NCCL's init for it), and no row is reported.
TEST(NcclBench, ARankWithoutItsDeviceStopsEveryRank) {
  std::vector<Status> got(2);
  int rows = 0;
  Status s = thread::RunRanks(2, [&](Communicator& host) -> Status {
    BenchOptions o;
    o.max_bytes = 1024;
    const int device = host.rank() == 0 ? 0 : DeviceCount() + 5;
    got[static_cast<size_t>(host.rank())] = RunBenchOnRank(
        host, device, o, [](const BenchSetup&) {}, [&](const BenchRow&) { ++rows; });
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  for (const Status& g : got) EXPECT_EQ(g.code(), StatusCode::kFailedPrecondition) << g;
  EXPECT_NE(got[1].message().find("rank 1"), std::string::npos) << got[1];
  EXPECT_EQ(rows, 0);
}

}  // namespace
}  // namespace loom::comm::nccl
