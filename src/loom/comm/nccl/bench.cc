// comm_nccl's benchmark (bench.h).
#include "loom/comm/nccl/bench.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include <cuda_runtime.h>
#include <nccl.h>

#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/comm/nccl/internal/check.h"
#include "loom/comm/nccl/nccl_comm.h"
#include "loom/comm/thread/thread_transport.h"

namespace loom::comm::nccl {
namespace {

enum class Coll { kAllReduce, kAllGather, kReduceScatter, kAllToAll, kBroadcast };
const char* CollName(Coll c) {
  switch (c) {
    case Coll::kAllReduce:
      return "allreduce";
    case Coll::kAllGather:
      return "allgather";
    case Coll::kReduceScatter:
      return "reducescatter";
    case Coll::kAllToAll:
      return "alltoall";
    case Coll::kBroadcast:
      return "broadcast";
  }
  return "?";
}

// nccl-tests' bus-bandwidth factor for p ranks.
double BusFactor(Coll c, int p) {
  if (c == Coll::kAllReduce) return 2.0 * (p - 1) / p;
  if (c == Coll::kBroadcast) return 1.0;
  return static_cast<double>(p - 1) / p;
}

float Val(int rank, size_t i) {
  return static_cast<float>((rank * 7 + static_cast<int>(i % 1021) * 3) % 9) - 3.0f;
}

// Elements per rank in the send buffer and in the receive buffer for `bytes` (fp32).
void Counts(Coll c, uint64_t bytes, int p, size_t* send, size_t* recv) {
  const size_t n = bytes / 4;
  switch (c) {
    case Coll::kAllReduce:
    case Coll::kBroadcast:
      *send = *recv = n;
      break;
    case Coll::kAllGather:
      *send = n / p;
      *recv = *send * p;
      break;
    case Coll::kReduceScatter:
      *recv = n / p;
      *send = *recv * p;
      break;
    case Coll::kAllToAll:
      *send = *recv = n / p * p;
      break;
  }
}

// Host reference for rank r's receive buffer (broadcast: root p - 1).
float Expected(Coll c, int r, int p, size_t i, size_t send_count) {
  switch (c) {
    case Coll::kAllReduce: {
      float s = 0;
      for (int q = 0; q < p; ++q) s += Val(q, i);
      return s;
    }
    case Coll::kAllGather:
      return Val(static_cast<int>(i / send_count), i % send_count);
    case Coll::kReduceScatter: {
      float s = 0;
      for (int q = 0; q < p; ++q) s += Val(q, static_cast<size_t>(r) * (send_count / p) + i);
      return s;
    }
    case Coll::kAllToAll: {
      const size_t block = send_count / p;
      return Val(static_cast<int>(i / block), static_cast<size_t>(r) * block + i % block);
    }
    case Coll::kBroadcast:
      return Val(p - 1, i);
  }
  return 0;
}

Status RawCall(Coll c, const float* send, float* recv, size_t send_count, int p, ncclComm_t comm,
               cudaStream_t stream) {
  switch (c) {
    case Coll::kAllReduce:
      LOOM_NCCL_CHECK(ncclAllReduce(send, recv, send_count, ncclFloat32, ncclSum, comm, stream));
      break;
    case Coll::kAllGather:
      LOOM_NCCL_CHECK(ncclAllGather(send, recv, send_count, ncclFloat32, comm, stream));
      break;
    case Coll::kReduceScatter:
      LOOM_NCCL_CHECK(
          ncclReduceScatter(send, recv, send_count / p, ncclFloat32, ncclSum, comm, stream));
      break;
    case Coll::kAllToAll: {
      const size_t block = send_count / p;
      LOOM_NCCL_CHECK(ncclGroupStart());
      for (int q = 0; q < p; ++q) {
        LOOM_NCCL_CHECK(ncclSend(send + q * block, block, ncclFloat32, q, comm, stream));
        LOOM_NCCL_CHECK(ncclRecv(recv + q * block, block, ncclFloat32, q, comm, stream));
      }
      LOOM_NCCL_CHECK(ncclGroupEnd());
      break;
    }
    case Coll::kBroadcast:
      LOOM_NCCL_CHECK(ncclBroadcast(recv, recv, send_count, ncclFloat32, p - 1, comm, stream));
      break;
  }
  LOOM_CUDA_CHECK(cudaStreamSynchronize(stream));
  return OkStatus();
}

Status LoomCall(Coll c, NcclCommunicator& nc, const float* send, float* recv, size_t send_count,
                int p) {
  switch (c) {
    case Coll::kAllReduce:
      return nc.AllReduce(send, recv, send_count, DataType::kF32, ReduceOp::kSum);
    case Coll::kAllGather:
      return nc.AllGather(send, recv, send_count, DataType::kF32);
    case Coll::kReduceScatter:
      return nc.ReduceScatter(send, recv, send_count / p, DataType::kF32, ReduceOp::kSum);
    case Coll::kAllToAll:
      return nc.AllToAll(send, recv, send_count / p, DataType::kF32);
    // In place, as the anchor's.
    case Coll::kBroadcast:
      return nc.Broadcast(recv, send_count, DataType::kF32, p - 1);
  }
  return InvalidArgumentError("collective");
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

Status RankMain(Communicator& host, int device, const BenchOptions& o,
                const std::vector<Coll>& colls,
                const std::function<void(const BenchRow&)>& on_row) {
  const int r = host.rank(), p = host.size();
  LOOM_ASSIGN_OR_RETURN(auto nc, NcclCommunicator::Create(host, device));
  LOOM_ASSIGN_OR_RETURN(auto nb,
                        NcclCommunicator::Create(host, device, NcclCommunicator::kDefaultTimeoutMs,
                                                 NcclMode::kBlocking));
  // The anchor's own communicator, made as a user would (blocking init), id from rank 0.
  UniqueId id{};
  if (r == 0) {
    LOOM_ASSIGN_OR_RETURN(id, NewUniqueId());
  }
  LOOM_RETURN_IF_ERROR(host.Broadcast(id.data(), id.size() / 4, DataType::kI32, 0));
  ncclUniqueId nid;
  std::memcpy(&nid, id.data(), sizeof(nid));
  LOOM_CUDA_CHECK(cudaSetDevice(device));
  ncclComm_t raw = nullptr;
  LOOM_NCCL_CHECK(ncclCommInitRank(&raw, p, nid, r));
  cudaStream_t stream = nullptr;
  LOOM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

  const size_t max_elems = o.max_bytes / 4 + static_cast<size_t>(p);
  float *d_send = nullptr, *d_recv = nullptr;
  LOOM_CUDA_CHECK(cudaMalloc(&d_send, max_elems * 4));
  LOOM_CUDA_CHECK(cudaMalloc(&d_recv, max_elems * 4));
  std::vector<float> h(max_elems);
  for (size_t i = 0; i < max_elems; ++i) h[i] = Val(r, i);
  LOOM_CUDA_CHECK(cudaMemcpy(d_send, h.data(), max_elems * 4, cudaMemcpyHostToDevice));

  for (Coll c : colls) {
    for (double b = static_cast<double>(o.min_bytes);
         b <= static_cast<double>(o.max_bytes) * 1.0001; b *= o.factor) {
      const uint64_t bytes = static_cast<uint64_t>(b);
      size_t send_count = 0, recv_count = 0;
      Counts(c, bytes, p, &send_count, &recv_count);
      if (send_count == 0 || recv_count == 0) continue;
      // Verify loom first, both modes (broadcast: the root's data placed in the receive buffer).
      nc->set_spin_us(NcclCommunicator::kDefaultSpinUs);
      for (NcclCommunicator* comm : {nc.get(), nb.get()}) {
        if (c == Coll::kBroadcast)
          LOOM_CUDA_CHECK(cudaMemcpy(d_recv, d_send, send_count * 4, cudaMemcpyDeviceToDevice));
        else
          LOOM_CUDA_CHECK(cudaMemset(d_recv, 0xff, recv_count * 4));
        LOOM_RETURN_IF_ERROR(LoomCall(c, *comm, d_send, d_recv, send_count, p));
        std::vector<float> got(recv_count);
        LOOM_CUDA_CHECK(cudaMemcpy(got.data(), d_recv, recv_count * 4, cudaMemcpyDeviceToHost));
        for (size_t i = 0; i < recv_count; ++i)
          if (got[i] != Expected(c, r, p, i, send_count))
            return InternalError(StrCat(CollName(c), " ", bytes, " B, ",
                                        comm == nb.get() ? "blocking" : "bounded", ": rank ", r,
                                        " element ", i, " is ", got[i], ", want ",
                                        Expected(c, r, p, i, send_count)));
      }
      // Batch size: about 2 ms of the anchor, at least 3 calls.
      int64_t t0 = NowNanos();
      LOOM_RETURN_IF_ERROR(RawCall(c, d_send, d_recv, send_count, p, raw, stream));
      double one = static_cast<double>(NowNanos() - t0);
      int batch = static_cast<int>(std::clamp(2e6 / std::max(one, 1.0), 3.0, 2000.0));
      LOOM_RETURN_IF_ERROR(host.Broadcast(&batch, 1, DataType::kI32, 0));
      constexpr int kVariants =
          4;  // anchor, loom bounded, loom blocking, loom bounded without spin
      std::vector<double> t[kVariants];
      for (int round = 0; round < o.rounds; ++round) {
        for (int k = 0; k < kVariants; ++k) {
          const int v = (round + k) % kVariants;  // rotate which variant goes first
          nc->set_spin_us(v == 3 ? 0 : NcclCommunicator::kDefaultSpinUs);
          LOOM_RETURN_IF_ERROR(host.Barrier());
          const int64_t start = NowNanos();
          for (int i = 0; i < batch; ++i) {
            if (v == 0)
              LOOM_RETURN_IF_ERROR(RawCall(c, d_send, d_recv, send_count, p, raw, stream));
            else
              LOOM_RETURN_IF_ERROR(LoomCall(c, v == 2 ? *nb : *nc, d_send, d_recv, send_count, p));
          }
          t[v].push_back(static_cast<double>(NowNanos() - start) * 1e-3 / batch);
        }
      }
      if (r == 0) {
        BenchRow row{CollName(c),  p, bytes, Median(t[0]), Median(t[1]), Median(t[2]),
                     Median(t[3]), 0, 0};
        row.algbw_gbs = static_cast<double>(bytes) / (row.loom_us * 1e3);
        row.busbw_gbs = row.algbw_gbs * BusFactor(c, p);
        on_row(row);
      }
    }
  }
  cudaFree(d_send);
  cudaFree(d_recv);
  cudaStreamDestroy(stream);
  ncclCommDestroy(raw);
  return OkStatus();
}

}  // namespace

const std::vector<std::string>& BenchCollectives() {
  static const std::vector<std::string> names = {"allreduce", "allgather", "reducescatter",
                                                 "alltoall", "broadcast"};
  return names;
}

namespace {

StatusOr<std::vector<Coll>> ParseOptions(const BenchOptions& o) {
  if (o.factor <= 1 || o.rounds < 1 || o.min_bytes == 0 || o.min_bytes > o.max_bytes || o.ranks < 0)
    return InvalidArgumentError(
        "nccl bench: need factor > 1, rounds >= 1, 0 < min bytes <= max bytes and ranks >= 0");
  const std::vector<std::string>& all = BenchCollectives();
  std::vector<Coll> colls;
  for (const std::string& name : o.collectives.empty() ? all : o.collectives) {
    auto it = std::find(all.begin(), all.end(), name);
    if (it == all.end())
      return InvalidArgumentError(StrCat("nccl bench: collective '", name,
                                         "' is not one of allreduce, allgather, reducescatter, "
                                         "alltoall, broadcast"));
    colls.push_back(static_cast<Coll>(it - all.begin()));
  }
  return colls;
}

}  // namespace

Status RunBenchOnRank(Communicator& host, int device, const BenchOptions& o,
                      const std::function<void(const BenchSetup&)>& on_setup,
                      const std::function<void(const BenchRow&)>& on_row) {
  LOOM_ASSIGN_OR_RETURN(std::vector<Coll> colls, ParseOptions(o));
  // Every rank learns whether every rank has its device, so none waits in NCCL's init for a
  // rank that gave up.
  const int visible = DeviceCount();
  const bool mine = device >= 0 && device < visible;
  int32_t all_ok = mine ? 1 : 0;
  LOOM_RETURN_IF_ERROR(host.AllReduce(&all_ok, &all_ok, 1, DataType::kI32, ReduceOp::kMin));
  if (!mine)
    return FailedPreconditionError(
        visible == 0 ? StrCat("nccl bench: rank ", host.rank(), ": no CUDA device visible")
                     : StrCat("nccl bench: rank ", host.rank(), ": CUDA device ", device,
                              " does not exist (", visible, " visible)"));
  if (all_ok == 0)
    return FailedPreconditionError(
        StrCat("nccl bench: rank ", host.rank(), ": another rank has no CUDA device for it"));
  if (host.rank() == 0) {
    BenchSetup setup;
    setup.ranks = host.size();
    ncclGetVersion(&setup.nccl_version);
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, device) == cudaSuccess) setup.device = prop.name;
    on_setup(setup);
  }
  return RankMain(host, device, o, colls, on_row);
}

Status RunBench(const BenchOptions& o, const std::function<void(const BenchSetup&)>& on_setup,
                const std::function<void(const BenchRow&)>& on_row) {
  LOOM_RETURN_IF_ERROR(ParseOptions(o).status());
  const int devices = DeviceCount();
  if (devices == 0) return FailedPreconditionError("nccl bench: no CUDA device visible");
  const int p = o.ranks > 0 ? o.ranks : std::min(devices, 8);
  if (p > devices)
    return FailedPreconditionError(StrCat("nccl bench: ", p, " ranks but only ", devices,
                                          " devices (NCCL allows one rank per device)"));
  return thread::RunRanks(p, [&](Communicator& host) {
    return RunBenchOnRank(host, host.rank(), o, on_setup, on_row);
  });
}

}  // namespace loom::comm::nccl
