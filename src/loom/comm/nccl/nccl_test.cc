// NCCL backend (label gpu): each collective on min(devices, 8) ranks (threads, one device each)
// against the sequential host reference, in both wait modes; skipped without a CUDA device.
#include <vector>

#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include "loom/base/timer.h"
#include "loom/comm/nccl/nccl_comm.h"
#include "loom/comm/thread/thread_transport.h"

namespace loom::comm::nccl {
namespace {

float Val(int rank, size_t i) { return static_cast<float>((rank * 7 + static_cast<int>(i) * 3) % 9) - 3.0f; }

Status Check(bool ok, const char* what) { return ok ? OkStatus() : InternalError(what); }

class NcclModes : public ::testing::TestWithParam<NcclMode> {};

TEST_P(NcclModes, CollectivesMatchTheHostReference) {
  const NcclMode mode = GetParam();
  const int devices = DeviceCount();
  if (devices == 0) GTEST_SKIP() << "no CUDA device";
  const int p = std::min(devices, 8);
  const size_t count = 1000 * static_cast<size_t>(p) + 3 * static_cast<size_t>(p);
  Status s = thread::RunRanks(p, [&](Communicator& host) -> Status {
    const int r = host.rank();
    LOOM_ASSIGN_OR_RETURN(
        auto nc, NcclCommunicator::Create(host, r, NcclCommunicator::kDefaultTimeoutMs, mode));
    LOOM_RETURN_IF_ERROR(Check(nc->mode() == mode, "mode"));
    std::vector<float> in(count * static_cast<size_t>(p)), out(in.size());
    for (size_t i = 0; i < in.size(); ++i) in[i] = Val(r, i);
    float *d_in = nullptr, *d_out = nullptr;
    if (cudaMalloc(&d_in, in.size() * 4) != cudaSuccess || cudaMalloc(&d_out, in.size() * 4) != cudaSuccess)
      return InternalError("cudaMalloc");
    cudaMemcpy(d_in, in.data(), in.size() * 4, cudaMemcpyHostToDevice);
    // allreduce (sum)
    LOOM_RETURN_IF_ERROR(nc->AllReduce(d_in, d_out, count, DataType::kF32, ReduceOp::kSum));
    cudaMemcpy(out.data(), d_out, count * 4, cudaMemcpyDeviceToHost);
    for (size_t i = 0; i < count; ++i) {
      float want = 0;
      for (int q = 0; q < p; ++q) want += Val(q, i);
      LOOM_RETURN_IF_ERROR(Check(out[i] == want, "allreduce"));
    }
    // allgather
    LOOM_RETURN_IF_ERROR(nc->AllGather(d_in, d_out, count, DataType::kF32));
    cudaMemcpy(out.data(), d_out, out.size() * 4, cudaMemcpyDeviceToHost);
    for (size_t i = 0; i < out.size(); ++i)
      LOOM_RETURN_IF_ERROR(Check(out[i] == Val(static_cast<int>(i / count), i % count), "allgather"));
    // reduce-scatter (max)
    LOOM_RETURN_IF_ERROR(nc->ReduceScatter(d_in, d_out, count, DataType::kF32, ReduceOp::kMax));
    cudaMemcpy(out.data(), d_out, count * 4, cudaMemcpyDeviceToHost);
    for (size_t i = 0; i < count; ++i) {
      float want = -1e30f;
      for (int q = 0; q < p; ++q) want = std::max(want, Val(q, static_cast<size_t>(r) * count + i));
      LOOM_RETURN_IF_ERROR(Check(out[i] == want, "reducescatter"));
    }
    // alltoall
    LOOM_RETURN_IF_ERROR(nc->AllToAll(d_in, d_out, count, DataType::kF32));
    cudaMemcpy(out.data(), d_out, out.size() * 4, cudaMemcpyDeviceToHost);
    for (size_t i = 0; i < out.size(); ++i)
      LOOM_RETURN_IF_ERROR(Check(out[i] == Val(static_cast<int>(i / count), static_cast<size_t>(r) * count + i % count), "alltoall"));
    // broadcast from the last rank
    LOOM_RETURN_IF_ERROR(nc->Broadcast(d_in, count, DataType::kF32, p - 1));
    cudaMemcpy(out.data(), d_in, count * 4, cudaMemcpyDeviceToHost);
    for (size_t i = 0; i < count; ++i) LOOM_RETURN_IF_ERROR(Check(out[i] == Val(p - 1, i), "broadcast"));
    // argument validation
    Status bad = nc->AllReduce(d_in, d_out, count, DataType::kF32, ReduceOp::kAdasum);
    LOOM_RETURN_IF_ERROR(Check(bad.code() == StatusCode::kInvalidArgument, "adasum accepted"));
    cudaFree(d_in);
    cudaFree(d_out);
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

// A peer that never joins: init must give up with Unavailable near the timeout, not hang in
// ncclCommInitRank (works on one device: rank 1 of 2 simply never comes).
TEST_P(NcclModes, InitWithAMissingPeerIsUnavailable) {
  if (DeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  auto id = NewUniqueId();
  ASSERT_TRUE(id.ok()) << id.status();
  const int64_t start = NowNanos();
  auto nc = NcclCommunicator::Join(*id, 2, 0, 0, /*timeout_ms=*/1500, GetParam());
  const double seconds = static_cast<double>(NowNanos() - start) * 1e-9;
  ASSERT_FALSE(nc.ok());
  EXPECT_EQ(nc.status().code(), StatusCode::kUnavailable) << nc.status();
  EXPECT_GE(seconds, 1.4);
  EXPECT_LT(seconds, 30.0) << "abort after the timeout took too long";
}

// One communicator per device; when ranks share a device NCCL refuses, and each rank must get
// that refusal as an error, not a hang or a crash.
TEST_P(NcclModes, TwoRanksOnOneDeviceFailCleanly) {
  if (DeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  std::vector<Status> got(2);
  Status s = thread::RunRanks(2, [&](Communicator& host) -> Status {
    auto nc = NcclCommunicator::Create(host, 0, /*timeout_ms=*/20000, GetParam());
    got[static_cast<size_t>(host.rank())] = nc.status();
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  for (const Status& g : got) {
    EXPECT_FALSE(g.ok());
    EXPECT_NE(g.code(), StatusCode::kUnavailable) << "NCCL should refuse, not time out: " << g;
  }
}

// A call that outlives its timeout aborts the communicator: Unavailable for that call, then
// FailedPrecondition for every later one (never a call on an aborted NCCL communicator), and the
// destructor copes. Timeout 0 on a 256 MiB allreduce (tens of us on any GPU) makes the first
// poll see it unfinished.
TEST_P(NcclModes, TimedOutCallAbortsTheCommunicator) {
  if (DeviceCount() == 0) GTEST_SKIP() << "no CUDA device";
  Status s = thread::RunRanks(1, [&](Communicator& host) -> Status {
    LOOM_ASSIGN_OR_RETURN(auto nc, NcclCommunicator::Create(
                                       host, 0, NcclCommunicator::kDefaultTimeoutMs, GetParam()));
    const size_t count = size_t{64} << 20;
    float *d_in = nullptr, *d_out = nullptr;
    if (cudaMalloc(&d_in, count * 4) != cudaSuccess || cudaMalloc(&d_out, count * 4) != cudaSuccess)
      return InternalError("cudaMalloc");
    LOOM_RETURN_IF_ERROR(nc->AllReduce(d_in, d_out, count, DataType::kF32, ReduceOp::kSum));
    nc->set_timeout_ms(0);
    Status first = nc->AllReduce(d_in, d_out, count, DataType::kF32, ReduceOp::kSum);
    Status next = nc->AllGather(d_in, d_out, 16, DataType::kF32);
    cudaDeviceSynchronize();
    cudaFree(d_in);
    cudaFree(d_out);
    LOOM_RETURN_IF_ERROR(
        Check(first.code() == StatusCode::kUnavailable, "timed-out call not Unavailable"));
    return Check(next.code() == StatusCode::kFailedPrecondition,
                 "call after the abort not refused");
  });
  EXPECT_TRUE(s.ok()) << s;
}

INSTANTIATE_TEST_SUITE_P(Nccl, NcclModes,
                         ::testing::Values(NcclMode::kBounded, NcclMode::kBlocking),
                         [](const ::testing::TestParamInfo<NcclMode>& info) {
                           return info.param == NcclMode::kBounded ? "Bounded" : "Blocking";
                         });

}  // namespace
}  // namespace loom::comm::nccl
