// NCCL backend (label gpu): each collective on min(devices, 8) ranks (threads, one device each)
// against the sequential host reference; skipped without a CUDA device.
#include "loom/comm/nccl/nccl_comm.h"

#include <gtest/gtest.h>
#include <cuda_runtime.h>

#include <vector>

#include "loom/comm/thread/thread_transport.h"

namespace loom::comm::nccl {
namespace {

float Val(int rank, size_t i) { return static_cast<float>((rank * 7 + static_cast<int>(i) * 3) % 9) - 3.0f; }

Status Check(bool ok, const char* what) { return ok ? OkStatus() : InternalError(what); }

TEST(Nccl, CollectivesMatchTheHostReference) {
  const int devices = DeviceCount();
  if (devices == 0) GTEST_SKIP() << "no CUDA device";
  const int p = std::min(devices, 8);
  const size_t count = 1000 * static_cast<size_t>(p) + 3 * static_cast<size_t>(p);
  Status s = thread::RunRanks(p, [&](Communicator& host) -> Status {
    const int r = host.rank();
    LOOM_ASSIGN_OR_RETURN(auto nc, NcclCommunicator::Create(host, r));
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

TEST(Nccl, MissingDeviceIsFailedPrecondition) {
  Status s = thread::RunRanks(1, [](Communicator& host) -> Status {
    auto nc = NcclCommunicator::Create(host, DeviceCount() + 3);
    return nc.status().code() == StatusCode::kFailedPrecondition ? OkStatus()
                                                                 : InternalError(nc.status().ToString());
  });
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace loom::comm::nccl
