// comm_nccl's benchmark: loom's NcclCommunicator against NCCL called directly, in the same run on
// the same devices, one thread rank per device (as nccl-tests' -g). The anchor is what a user
// would write without loom: ncclAllReduce & co on a blocking communicator of its own, then
// cudaStreamSynchronize. loom's calls block too (validation, enqueue, poll to completion), so the
// ratio anchor time / loom time is what loom costs per call. Columns: the anchor; loom in its
// default mode (kBounded: a non-blocking NCCL communicator); loom kBlocking; and loom kBounded
// with spin_us = 0 (sleep from the first poll, the wait the backend used before it spun).
//
//   nccl_bench [--ranks P] [--min-bytes 8] [--max-bytes 1GiB] [--factor 8] [--rounds 7]
//              [--json FILE]
//
// Sizes follow nccl-tests: the bytes of the largest buffer (allgather's receive, reduce-scatter's
// send, alltoall's per-rank buffer). Every loom result is checked against the host reference
// before it is timed, in both modes; values are small integers, so sums are exact in fp32.
// Timing: each round runs a batch of back-to-back calls per variant (the batch sized to about
// 2 ms), variants in rotated order after a host barrier; the row reports the median over rounds
// of the per-call mean, from rank 0's clock. algbw and busbw (nccl-tests' factors) are loom's
// default mode's.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include <cuda_runtime.h>
#include <nccl.h>

#include "loom/base/strings.h"
#include "loom/base/timer.h"
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

struct Options {
  int ranks = 0;  // 0: every visible device, at most 8
  uint64_t min_bytes = 8, max_bytes = uint64_t{1} << 30;
  double factor = 8;
  int rounds = 7;
  std::string json;
};

struct Row {
  Coll coll;
  uint64_t bytes;
  double nccl_us, loom_us, blocking_us, nospin_us;
};

#define BENCH_CUDA(call)                                                                        \
  do {                                                                                          \
    cudaError_t rc_ = (call);                                                                   \
    if (rc_ != cudaSuccess) return InternalError(StrCat(#call, ": ", cudaGetErrorString(rc_))); \
  } while (0)
#define BENCH_NCCL(call)                                                                        \
  do {                                                                                          \
    ncclResult_t rc_ = (call);                                                                  \
    if (rc_ != ncclSuccess) return InternalError(StrCat(#call, ": ", ncclGetErrorString(rc_))); \
  } while (0)

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
      BENCH_NCCL(ncclAllReduce(send, recv, send_count, ncclFloat32, ncclSum, comm, stream));
      break;
    case Coll::kAllGather:
      BENCH_NCCL(ncclAllGather(send, recv, send_count, ncclFloat32, comm, stream));
      break;
    case Coll::kReduceScatter:
      BENCH_NCCL(ncclReduceScatter(send, recv, send_count / p, ncclFloat32, ncclSum, comm, stream));
      break;
    case Coll::kAllToAll: {
      const size_t block = send_count / p;
      BENCH_NCCL(ncclGroupStart());
      for (int q = 0; q < p; ++q) {
        BENCH_NCCL(ncclSend(send + q * block, block, ncclFloat32, q, comm, stream));
        BENCH_NCCL(ncclRecv(recv + q * block, block, ncclFloat32, q, comm, stream));
      }
      BENCH_NCCL(ncclGroupEnd());
      break;
    }
    case Coll::kBroadcast:
      BENCH_NCCL(ncclBroadcast(recv, recv, send_count, ncclFloat32, p - 1, comm, stream));
      break;
  }
  BENCH_CUDA(cudaStreamSynchronize(stream));
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

Status RankMain(Communicator& host, const Options& o, std::vector<Row>* rows) {
  const int r = host.rank(), p = host.size();
  LOOM_ASSIGN_OR_RETURN(auto nc, NcclCommunicator::Create(host, r));
  LOOM_ASSIGN_OR_RETURN(
      auto nb,
      NcclCommunicator::Create(host, r, NcclCommunicator::kDefaultTimeoutMs, NcclMode::kBlocking));
  // The anchor's own communicator, made as a user would (blocking init), id from rank 0.
  UniqueId id{};
  if (r == 0) {
    LOOM_ASSIGN_OR_RETURN(id, NewUniqueId());
  }
  LOOM_RETURN_IF_ERROR(host.Broadcast(id.data(), id.size() / 4, DataType::kI32, 0));
  ncclUniqueId nid;
  std::memcpy(&nid, id.data(), sizeof(nid));
  BENCH_CUDA(cudaSetDevice(r));
  ncclComm_t raw = nullptr;
  BENCH_NCCL(ncclCommInitRank(&raw, p, nid, r));
  cudaStream_t stream = nullptr;
  BENCH_CUDA(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));

  const size_t max_elems = o.max_bytes / 4 + static_cast<size_t>(p);
  float *d_send = nullptr, *d_recv = nullptr;
  BENCH_CUDA(cudaMalloc(&d_send, max_elems * 4));
  BENCH_CUDA(cudaMalloc(&d_recv, max_elems * 4));
  std::vector<float> h(max_elems);
  for (size_t i = 0; i < max_elems; ++i) h[i] = Val(r, i);
  BENCH_CUDA(cudaMemcpy(d_send, h.data(), max_elems * 4, cudaMemcpyHostToDevice));

  for (Coll c : {Coll::kAllReduce, Coll::kAllGather, Coll::kReduceScatter, Coll::kAllToAll,
                 Coll::kBroadcast}) {
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
          BENCH_CUDA(cudaMemcpy(d_recv, d_send, send_count * 4, cudaMemcpyDeviceToDevice));
        else
          BENCH_CUDA(cudaMemset(d_recv, 0xff, recv_count * 4));
        LOOM_RETURN_IF_ERROR(LoomCall(c, *comm, d_send, d_recv, send_count, p));
        std::vector<float> got(recv_count);
        BENCH_CUDA(cudaMemcpy(got.data(), d_recv, recv_count * 4, cudaMemcpyDeviceToHost));
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
      if (r == 0)
        rows->push_back({c, bytes, Median(t[0]), Median(t[1]), Median(t[2]), Median(t[3])});
    }
  }
  cudaFree(d_send);
  cudaFree(d_recv);
  cudaStreamDestroy(stream);
  ncclCommDestroy(raw);
  return OkStatus();
}

int Run(const Options& o) {
  const int devices = DeviceCount();
  if (devices == 0) {
    std::fprintf(stderr, "nccl_bench: no CUDA device visible\n");
    return 2;
  }
  const int p = o.ranks > 0 ? o.ranks : std::min(devices, 8);
  if (p > devices) {
    std::fprintf(stderr,
                 "nccl_bench: --ranks %d but only %d devices (NCCL allows one rank per device)\n",
                 p, devices);
    return 2;
  }
  int version = 0;
  ncclGetVersion(&version);
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  std::printf(
      "# %d rank(s), one per device (%s), NCCL %d; times are us per call, median of %d rounds\n", p,
      prop.name, version, o.rounds);
  std::printf("%-14s %12s %10s %10s %10s %10s %7s %7s %10s %10s\n", "collective", "bytes",
              "nccl_us", "loom_us", "block_us", "nospin_us", "ratio", "r_block", "algbw_GBs",
              "busbw_GBs");
  std::vector<Row> rows;
  Status s = thread::RunRanks(p, [&](Communicator& host) { return RankMain(host, o, &rows); });
  std::string json;
  for (const Row& row : rows) {
    const double algbw = static_cast<double>(row.bytes) / (row.loom_us * 1e3);
    const double busbw = algbw * BusFactor(row.coll, p);
    std::printf("%-14s %12llu %10.2f %10.2f %10.2f %10.2f %7.3f %7.3f %10.2f %10.2f\n",
                CollName(row.coll), static_cast<unsigned long long>(row.bytes), row.nccl_us,
                row.loom_us, row.blocking_us, row.nospin_us, row.nccl_us / row.loom_us,
                row.nccl_us / row.blocking_us, algbw, busbw);
    json += StrCat("{\"collective\":\"", CollName(row.coll), "\",\"ranks\":", p,
                   ",\"bytes\":", row.bytes, ",\"nccl_us\":", row.nccl_us,
                   ",\"loom_us\":", row.loom_us, ",\"loom_blocking_us\":", row.blocking_us,
                   ",\"loom_nospin_us\":", row.nospin_us, ",\"ratio\":", row.nccl_us / row.loom_us,
                   ",\"ratio_blocking\":", row.nccl_us / row.blocking_us, ",\"algbw_gbs\":", algbw,
                   ",\"busbw_gbs\":", busbw, "}\n");
  }
  if (!o.json.empty()) {
    const std::string tmp = o.json + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (f == nullptr || std::fwrite(json.data(), 1, json.size(), f) != json.size() ||
        std::fclose(f) != 0 || std::rename(tmp.c_str(), o.json.c_str()) != 0) {
      std::fprintf(stderr, "nccl_bench: cannot write %s\n", o.json.c_str());
      return 1;
    }
  }
  if (!s.ok()) {
    std::fprintf(stderr, "nccl_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace loom::comm::nccl

int main(int argc, char** argv) {
  using loom::comm::nccl::Options;
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    auto bytes = [&](uint64_t* out) {
      auto v = loom::ParseByteSize(argv[++i], a);
      if (!v.ok()) {
        std::fprintf(stderr, "nccl_bench: %s\n", v.status().ToString().c_str());
        std::exit(2);
      }
      *out = *v;
    };
    if (a == "--ranks" && has_value)
      o.ranks = std::atoi(argv[++i]);
    else if (a == "--min-bytes" && has_value)
      bytes(&o.min_bytes);
    else if (a == "--max-bytes" && has_value)
      bytes(&o.max_bytes);
    else if (a == "--factor" && has_value)
      o.factor = std::atof(argv[++i]);
    else if (a == "--rounds" && has_value)
      o.rounds = std::atoi(argv[++i]);
    else if (a == "--json" && has_value)
      o.json = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: nccl_bench [--ranks P] [--min-bytes N] [--max-bytes N] [--factor F] "
                   "[--rounds R] [--json FILE]\n");
      return 2;
    }
  }
  if (o.factor <= 1 || o.rounds < 1 || o.min_bytes == 0 || o.min_bytes > o.max_bytes ||
      o.ranks < 0) {
    std::fprintf(stderr,
                 "nccl_bench: need --factor > 1, --rounds >= 1, 0 < --min-bytes <= --max-bytes\n");
    return 2;
  }
  return loom::comm::nccl::Run(o);
}
