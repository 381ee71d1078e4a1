// `loom comm bench` (comm_bench.h).
#include "comm_bench.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "loom/adasum/adasum.h"
#include "loom/adasum/hierarchical.h"
#include "loom/adasum/reference.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/comm/communicator.h"
#include "loom/comm/thread/thread_transport.h"
#include "loom/comm/tuning.h"
#ifdef LOOM_HAVE_MPI
#include "loom/comm/mpi/mpi_transport.h"
#endif
#ifdef LOOM_HAVE_NCCL
#include "loom/comm/nccl/bench.h"
#include "loom/comm/nccl/nccl_comm.h"
#endif

namespace loom::cli {

double BusFactor(const std::string& c, int n) {
  if (n <= 1) return 0.0;
  if (c == "allreduce") return 2.0 * (n - 1) / n;
  if (c == "allgather" || c == "reducescatter" || c == "alltoall") return static_cast<double>(n - 1) / n;
  return 1.0;
}

namespace {

using comm::Communicator;
using comm::DataType;
using comm::ReduceOp;

struct BenchArgs {
  std::string backend = "thread", collective = "allreduce", algorithm = "auto";
  int ranks = 8;
  std::string min_bytes = "4B", max_bytes = "64MiB";
  int factor = 4, iters = 10, tensors = 1;
  std::string exchange = "in-place";  // adasum: AdasumReducer::Exchange (A/B)
  bool sum_in_place = false;          // adasum: the sum baseline reads in place too
  // adasum: hierarchical Adasum when set; "N": nodes are blocks of N consecutive ranks,
  // "host": the ranks of one host (mpi: comm::mpi::HostColour; thread ranks: one node).
  std::string local_size;
  bool registered = false;            // buffers from Transport::AllocateShared (both libraries)
  int loop = 0;  // > 0: each timed repetition is `loop` back-to-back calls (OSU / nccl-tests style)
};

// Registered memory taken for one point, freed (collectively, in the same order on every
// rank) when the point is done.
struct RegisteredBuffers {
  comm::Transport* transport = nullptr;
  std::vector<std::byte*> taken;
  ~RegisteredBuffers() {
    for (std::byte* p : taken) (void)transport->FreeShared(p);
  }
  // n zeroed floats: from the transport's registered memory when `transport` is set, else `own`.
  StatusOr<std::span<float>> Floats(std::vector<float>& own, size_t n) {
    if (transport == nullptr) {
      own.assign(n, 0.0f);
      return std::span<float>(own);
    }
    LOOM_ASSIGN_OR_RETURN(std::span<std::byte> b, transport->AllocateShared(n * sizeof(float)));
    taken.push_back(b.data());
    std::span<float> f(reinterpret_cast<float*>(b.data()), n);
    std::fill(f.begin(), f.end(), 0.0f);
    return f;
  }
};

constexpr size_t kValPeriod = 1021;
float Val(int rank, size_t i) { return static_cast<float>((rank * 5 + static_cast<int>(i % kValPeriod)) % 7) - 3.0f; }

// gram[q][q'] = sum over i in [off, off + n) of Val(q, i)·Val(q', i), exact (small integers):
// Val has period kValPeriod in i, so it counts how often each residue occurs.
std::vector<std::vector<double>> ValGram(int p, size_t off, size_t n) {
  std::vector<double> times(kValPeriod, static_cast<double>(n / kValPeriod));
  for (size_t i = off; i < off + n % kValPeriod; ++i) times[i % kValPeriod] += 1;
  const size_t pc = static_cast<size_t>(p);
  std::vector<std::vector<double>> gram(pc, std::vector<double>(pc, 0.0));
  for (size_t m = 0; m < kValPeriod; ++m)
    for (size_t q = 0; q < pc; ++q)
      for (size_t k = 0; k < pc; ++k)
        gram[q][k] += times[m] * Val(static_cast<int>(q), m) * Val(static_cast<int>(k), m);
  return gram;
}

std::vector<size_t> Sizes(uint64_t lo, uint64_t hi, int factor) {
  std::vector<size_t> s;
  for (uint64_t b = lo; b <= hi; b *= static_cast<uint64_t>(std::max(2, factor))) s.push_back(b);
  if (lo <= (1u << 20) && hi >= (1u << 20) && std::find(s.begin(), s.end(), size_t{1} << 20) == s.end())
    s.push_back(size_t{1} << 20);
  std::sort(s.begin(), s.end());
  return s;
}

// One collective at one size: buffers, a verified call, then timing. `native` (MPI) may be null.
struct Point {
  size_t bytes;
  double loom_s = 0, native_s = 0;
  bool has_native = false;
  std::string chosen;  // what the call's algorithm resolved to (kAuto: tuning table or built-in)
};

Status BenchOne(Communicator& c, const BenchArgs& a, comm::Algorithm algo, size_t bytes,
                void* native_comm, Point& pt) {
  const int p = c.size(), r = c.rank();
  const size_t pc = static_cast<size_t>(p);
  const std::string& coll = a.collective;
  size_t count;  // the call's count argument
  size_t in_n, out_n;
  if (coll == "allreduce" || coll == "adasum") {
    count = std::max<size_t>(1, bytes / 4);
    in_n = out_n = count;
  } else if (coll == "allgather") {
    count = std::max<size_t>(1, bytes / 4 / pc);
    in_n = count;
    out_n = count * pc;
  } else if (coll == "alltoall") {
    count = std::max<size_t>(1, bytes / 4 / pc);
    in_n = out_n = count * pc;
  } else {
    return InvalidArgumentError(StrCat("--collective ", coll, ": allreduce, allgather, alltoall or adasum"));
  }
  pt.bytes = out_n * 4;
  if (coll == "alltoall" || coll == "allreduce" || coll == "adasum") pt.bytes = in_n * 4;
  if (coll != "adasum") {
    const auto kind = coll == "allreduce" ? comm::CollectiveKind::kAllReduce
                      : coll == "allgather" ? comm::CollectiveKind::kAllGather
                                            : comm::CollectiveKind::kAllToAll;
    pt.chosen = comm::AlgorithmName(c.Choose(kind, std::max(in_n, out_n) * 4, {.algorithm = algo}));
  }
  // --registered: every buffer, OpenMPI's included, lies in registered memory.
  RegisteredBuffers reg{a.registered ? &c.transport() : nullptr, {}};
  std::vector<float> in_v, out_v, check_v;
  LOOM_ASSIGN_OR_RETURN(std::span<float> in, reg.Floats(in_v, in_n));
  LOOM_ASSIGN_OR_RETURN(std::span<float> out, reg.Floats(out_v, out_n));
  LOOM_ASSIGN_OR_RETURN(std::span<float> check, reg.Floats(check_v, out_n));
  for (size_t i = 0; i < in_n; ++i) in[i] = Val(r, i);
  std::unique_ptr<adasum::AdasumReducer> red;
  std::unique_ptr<adasum::HierarchicalAdasumReducer> hier;  // --local-size
  std::vector<int32_t> node_of;                             // hier: every rank's node index
  std::vector<adasum::TensorView> views;
  if (coll == "adasum") {
    if (!a.local_size.empty()) {
      int colour = 0;  // "host" on thread ranks: one node
      if (a.local_size != "host") {
        colour = r / std::stoi(a.local_size);  // checked in Bench
      } else if (a.backend == "mpi") {
#ifdef LOOM_HAVE_MPI
        LOOM_ASSIGN_OR_RETURN(colour, comm::mpi::HostColour());
#endif
      }
      LOOM_ASSIGN_OR_RETURN(hier, adasum::HierarchicalAdasumReducer::Create(c, colour));
      // Every rank's node index, for the reference below.
      const int32_t mine = hier->node_index();
      node_of.resize(pc);
      LOOM_RETURN_IF_ERROR(c.AllGather(&mine, node_of.data(), 1, DataType::kI32));
    } else {
      LOOM_ASSIGN_OR_RETURN(red, adasum::AdasumReducer::Create(c));
    }
    using X = adasum::AdasumReducer::Exchange;
    if (a.exchange != "in-place" && a.exchange != "on-arrival" && a.exchange != "copy" &&
        a.exchange != "read")
      return InvalidArgumentError(
          StrCat("--exchange ", a.exchange, ": in-place, on-arrival, copy or read"));
    const X exchange = a.exchange == "copy"         ? X::kCopy
                       : a.exchange == "on-arrival" ? X::kOnArrival
                       : a.exchange == "read"       ? X::kReadPeer
                                                    : X::kInPlace;
    if (hier) {
      hier->set_exchange(exchange);
      hier->set_sum_in_place(a.sum_in_place);
    }
    if (red) {
      red->set_exchange(exchange);
      red->set_sum_in_place(a.sum_in_place);
    }
    size_t per = std::max<size_t>(1, count / static_cast<size_t>(std::max(1, a.tensors)));
    for (size_t off = 0; off < count; off += per)
      views.push_back({out.data() + off, std::min(per, count - off)});
  }
  // Timed repetitions alternate which of `out` / `check` each library writes: two buffers of one
  // size need not copy alike (on the AMD guest one ran 1.5-1.8x slower under process_vm_readv;
  // docs/benchmarks.md), and neither side should keep the lucky one.
  bool swapped = false;
  auto run_loom = [&]() -> Status {
    comm::CollectiveOptions o{.algorithm = algo};
    float* dst = swapped ? check.data() : out.data();
    if (coll == "allreduce")
      return c.AllReduce(in.data(), dst, count, DataType::kF32, ReduceOp::kSum, o);
    if (coll == "allgather") return c.AllGather(in.data(), dst, count, DataType::kF32, o);
    if (coll == "alltoall") return c.AllToAll(in.data(), dst, count, DataType::kF32, o);
    std::memcpy(out.data(), in.data(), count * 4);
    return hier ? hier->Allreduce(views, DataType::kF32) : red->Allreduce(views, DataType::kF32);
  };
  auto run_native = [&]() -> Status {
    if (coll == "adasum") {
      // The same buffer as Adasum's: two buffers of one size can copy at different speeds
      // (on the AMD guest the partner's process_vm_readv of one ran 1.5-1.8x slower than of
      // the other, whichever collective used it; docs/benchmarks.md), which skewed the ratio.
      std::memcpy(out.data(), in.data(), count * 4);
      return hier ? hier->SumAllreduce(views, DataType::kF32)
                  : red->SumAllreduce(views, DataType::kF32);
    }
#ifdef LOOM_HAVE_MPI
    MPI_Comm mc = *static_cast<MPI_Comm*>(native_comm);
    int n = static_cast<int>(count), rc = MPI_SUCCESS;
    float* dst = swapped ? out.data() : check.data();
    if (coll == "allreduce") rc = MPI_Allreduce(in.data(), dst, n, MPI_FLOAT, MPI_SUM, mc);
    if (coll == "allgather") rc = MPI_Allgather(in.data(), n, MPI_FLOAT, dst, n, MPI_FLOAT, mc);
    if (coll == "alltoall") rc = MPI_Alltoall(in.data(), n, MPI_FLOAT, dst, n, MPI_FLOAT, mc);
    if (rc != MPI_SUCCESS) return InternalError("native MPI collective failed");
#endif
    return OkStatus();
  };
  const bool native = coll == "adasum" || native_comm != nullptr;
  // Verify: loom's result against the closed form (integer-valued floats: exact).
  LOOM_RETURN_IF_ERROR(run_loom());
  if (coll == "allreduce") {
    for (size_t i = 0; i < count; ++i) {
      float want = 0;
      for (int q = 0; q < p; ++q) want += Val(q, i);
      if (out[i] != want) return InternalError(StrCat("allreduce verification failed at ", i));
    }
  } else if (coll == "allgather") {
    for (size_t i = 0; i < out_n; ++i)
      if (out[i] != Val(static_cast<int>(i / count), i % count)) return InternalError("allgather verification failed");
  } else if (coll == "alltoall") {
    for (size_t i = 0; i < out_n; ++i)
      if (out[i] != Val(static_cast<int>(i / count), static_cast<size_t>(r) * count + i % count))
        return InternalError("alltoall verification failed");
  }
  if (coll == "adasum") {
    // Adasum: Horovod's criterion per tensor, every element, against the double-precision
    // tree in weight space (reference.h: result = sum_q w_q·x_q), so no size is too large.
    // Hierarchical: the tree runs over the node averages, so rank q's weight is its node's / L.
    const int L = hier ? hier->local_size() : 1, nodes = p / L;
    auto node = [&](int q) {
      return static_cast<size_t>(hier ? node_of[static_cast<size_t>(q)] : q);
    };
    for (size_t v = 0; v < views.size(); ++v) {
      const size_t off = static_cast<size_t>(static_cast<float*>(views[v].data) - out.data());
      const std::vector<std::vector<double>> gram = ValGram(p, off, views[v].count);
      std::vector<std::vector<double>> node_gram(
          static_cast<size_t>(nodes), std::vector<double>(static_cast<size_t>(nodes), 0.0));
      for (int q = 0; q < p; ++q)
        for (int k = 0; k < p; ++k)
          node_gram[node(q)][node(k)] +=
              gram[static_cast<size_t>(q)][static_cast<size_t>(k)] / (double(L) * L);
      const std::vector<double> w = adasum::TreeWeights(node_gram);
      double diff = 0, norm = 0;
      for (size_t i = off; i < off + views[v].count; ++i) {
        double want = 0;
        for (int q = 0; q < p; ++q) want += w[node(q)] / L * Val(q, i);
        diff += (want - out[i]) * (want - out[i]);
        norm += want * want;
      }
      if (std::sqrt(diff) > 100 * FLT_EPSILON * std::sqrt(norm))
        return InternalError(StrCat("adasum verification failed on tensor ", v, ": relative error ",
                                    std::sqrt(diff / std::max(norm, DBL_MIN))));
    }
    // The sum baseline, in the same buffer: integer-valued floats, exact in any order (the
    // hierarchical sum of node averages within rounding unless L is a power of two).
    LOOM_RETURN_IF_ERROR(run_native());
    for (size_t i = 0; i < count; ++i) {
      double want = 0;
      for (int q = 0; q < p; ++q) want += Val(q, i);
      want /= L;
      const bool exact = (L & (L - 1)) == 0;
      if (exact ? out[i] != want
                : std::abs(out[i] - want) > 4 * FLT_EPSILON * p * (1 + std::abs(want)))
        return InternalError(StrCat("sum_vhdd verification failed at ", i));
    }
  }
  if (native && coll != "adasum") {
    LOOM_RETURN_IF_ERROR(run_native());
    if (!std::equal(check.begin(), check.end(), out.begin()))
      return InternalError("loom and the native collective disagree");
  }
  std::vector<double> tl, tn;
  // One timed repetition: one call after a barrier, or with --loop N below 1 MiB the mean of N
  // calls back to back (a single call's time carries the ranks' exit skew from the barrier,
  // which at a few bytes outweighs the call itself; from 1 MiB the call dwarfs it).
  const int calls = a.loop > 0 && bytes < (size_t{1} << 20) ? a.loop : 1;
  for (int it = -2; it < a.iters; ++it) {  // two warm-up rounds
    double t[2] = {0, 0};
    swapped = coll != "adasum" && (it & 1) != 0;
    LOOM_RETURN_IF_ERROR(c.Barrier());
    Stopwatch sw;
    for (int k = 0; k < calls; ++k) LOOM_RETURN_IF_ERROR(run_loom());
    t[0] = sw.ElapsedSeconds() / calls;
    if (native) {
      LOOM_RETURN_IF_ERROR(c.Barrier());
      sw.Restart();
      for (int k = 0; k < calls; ++k) LOOM_RETURN_IF_ERROR(run_native());
      t[1] = sw.ElapsedSeconds() / calls;
    }
    LOOM_RETURN_IF_ERROR(c.AllReduce(t, t, 2, DataType::kF64, ReduceOp::kMax));
    if (it >= 0) {
      tl.push_back(t[0]);
      tn.push_back(t[1]);
    }
  }
  pt.loom_s = Median(tl);
  pt.native_s = Median(tn);
  pt.has_native = native;
  return OkStatus();
}

#ifdef LOOM_HAVE_NCCL
// Under mpirun (OpenMPI's or a PMI launcher's environment).
bool LaunchedByMpirun() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr ||
         std::getenv("PMIX_RANK") != nullptr;
}
#endif

// --backend nccl: device buffers, one thread rank per visible GPU (at most --ranks), or under
// mpirun one process per GPU (across hosts); each point against NCCL called directly in the
// same run (comm/nccl/bench.h).
Status NcclBench(Context& ctx, const BenchArgs& a, uint64_t lo, uint64_t hi) {
#ifdef LOOM_HAVE_NCCL
  if (a.collective == "adasum")
    return InvalidArgumentError(
        "--backend nccl: adasum reduces on the host; use --backend thread or mpi");
  comm::nccl::BenchOptions o;
  o.min_bytes = lo;
  o.max_bytes = hi;
  o.factor = a.factor;
  o.rounds = a.iters;
  o.collectives = {a.collective};
  const int devices = comm::nccl::DeviceCount();
  o.ranks = std::min(a.ranks, std::max(devices, 1));
  auto on_setup =
      [&](const comm::nccl::BenchSetup& setup) {
        ctx.Emit({{"backend", "nccl"},
                  {"ranks", setup.ranks},
                  {"device", setup.device},
                  {"nccl_version", setup.nccl_version}},
                 StrCat("# ", setup.ranks, " rank(s), one per device (", setup.device, "), NCCL ",
                        setup.nccl_version, "; anchor: NCCL called directly"));
      };
  auto on_row =
      [&](const comm::nccl::BenchRow& row) {
        Json rec = {{"collective", row.collective},
                    {"backend", "nccl"},
                    {"ranks", row.ranks},
                    {"bytes", row.bytes},
                    {"loom_us", row.loom_us},
                    {"nccl_us", row.nccl_us},
                    {"loom_blocking_us", row.blocking_us},
                    {"ratio", row.nccl_us / row.loom_us},
                    {"ratio_blocking", row.nccl_us / row.blocking_us},
                    {"algbw_GBps", row.algbw_gbs},
                    {"busbw_GBps", row.busbw_gbs}};
        char line[256];
        std::snprintf(line, sizeof(line),
                      "%-10s %2d ranks %12llu B  loom %10.1f us  nccl %10.1f us  ratio %.2f  "
                      "blocking mode %.2f  busbw %.2f GB/s",
                      row.collective.c_str(), row.ranks, static_cast<unsigned long long>(row.bytes),
                      row.loom_us, row.nccl_us, row.nccl_us / row.loom_us,
                      row.nccl_us / row.blocking_us, row.busbw_gbs);
        ctx.Emit(rec, line);
      };
  if (LaunchedByMpirun()) {
#ifdef LOOM_HAVE_MPI
    // One process per GPU, across hosts: MPI is the bootstrap, each process takes the device of
    // its rank on its node (as nccl-tests does under mpirun). More processes on a node than GPUs
    // is an error every rank reports (RunBenchOnRank), not two ranks sharing a device.
    return RunOnBackend("mpi", 0, [&](Communicator& c, void* native) -> Status {
      MPI_Comm node;
      MPI_Comm_split_type(*static_cast<MPI_Comm*>(native), MPI_COMM_TYPE_SHARED, c.rank(),
                          MPI_INFO_NULL, &node);
      int local = 0;
      MPI_Comm_rank(node, &local);
      MPI_Comm_free(&node);
      return comm::nccl::RunBenchOnRank(c, local, o, on_setup, on_row);
    });
#else
    return FailedPreconditionError("--backend nccl under mpirun: this loom was built without MPI");
#endif
  }
  return comm::nccl::RunBench(o, on_setup, on_row);
#else
  (void)ctx, (void)a, (void)lo, (void)hi;
  return FailedPreconditionError("--backend nccl: this loom was built without CUDA and NCCL");
#endif
}

Status Bench(Context& ctx, const BenchArgs& a) {
  LOOM_ASSIGN_OR_RETURN(uint64_t lo, ParseByteSize(a.min_bytes, "--min-bytes"));
  LOOM_ASSIGN_OR_RETURN(uint64_t hi, ParseByteSize(a.max_bytes, "--max-bytes"));
  if (a.backend != "thread" && a.backend != "mpi" && a.backend != "nccl")
    return InvalidArgumentError(StrCat("--backend ", a.backend, ": thread, mpi or nccl"));
  if (lo < 4 || hi < lo) return InvalidArgumentError("need 4B <= --min-bytes <= --max-bytes");
  if (a.iters < 1) return InvalidArgumentError("--iters must be at least 1");
  if (a.backend == "nccl") {
    if (a.factor < 2) return InvalidArgumentError("--factor must be at least 2");
    if (a.ranks < 1) return InvalidArgumentError("--ranks must be at least 1");
    return NcclBench(ctx, a, lo, hi);
  }
  LOOM_ASSIGN_OR_RETURN(comm::Algorithm algo, comm::ParseAlgorithm(a.algorithm));
  if (a.loop < 0) return InvalidArgumentError("--loop must be 0 (one call per repetition) or more");
  if (a.registered && a.collective == "adasum")
    return InvalidArgumentError("--registered: not for adasum");
  if (!a.local_size.empty()) {
    if (a.collective != "adasum")
      return InvalidArgumentError("--local-size: only for --collective adasum");
    if (a.local_size != "host" &&
        (a.local_size.find_first_not_of("0123456789") != std::string::npos ||
         a.local_size.size() > 6 || std::stoi(a.local_size) < 1))
      return InvalidArgumentError(
          StrCat("--local-size ", a.local_size, ": a rank count >= 1, or host"));
  }
  const std::vector<size_t> sizes = Sizes(lo, hi, a.factor);
  auto body = [&](Communicator& c, void* native_comm) -> Status {
    size_t last_bytes = 0;
    for (size_t b : sizes) {
      Point pt;
      LOOM_RETURN_IF_ERROR(BenchOne(c, a, algo, b, native_comm, pt));
      if (c.rank() != 0) continue;
      // Allgather/alltoall round each size to whole elements per rank, so two requested sizes
      // can land on the same point (4 B and 16 B at 4 ranks); report it once.
      if (pt.bytes == last_bytes) continue;
      last_bytes = pt.bytes;
      const int n = c.size();
      double algbw = static_cast<double>(pt.bytes) / pt.loom_s / 1e9;
      double busbw = algbw * BusFactor(a.collective == "adasum" ? "allreduce" : a.collective, n);
      std::string baseline = a.collective != "adasum" ? "openmpi"
                             : !a.local_size.empty()  ? "sum_hierarchical"
                                                      : "sum_vhdd";
      Json rec = {{"collective", a.collective}, {"backend", a.backend}, {"ranks", n},
                  {"bytes", pt.bytes}, {"algorithm", a.algorithm}, {"loom_us", pt.loom_s * 1e6},
                  {"algbw_GBps", algbw}, {"busbw_GBps", busbw}};
      if (!pt.chosen.empty()) rec["chosen"] = pt.chosen;
      if (a.registered) rec["registered"] = true;
      if (a.collective == "adasum") rec["tensors"] = a.tensors;
      if (!a.local_size.empty()) rec["local_size"] = a.local_size;
      char line[256];
      if (pt.has_native) {
        rec[baseline + "_us"] = pt.native_s * 1e6;
        // adasum: cost ratio (target <= 1.25); others: speed ratio vs OpenMPI (target >= 1).
        double ratio = a.collective == "adasum" ? pt.loom_s / pt.native_s : pt.native_s / pt.loom_s;
        rec["ratio"] = ratio;
        std::snprintf(line, sizeof(line), "%-10s %2d ranks %12zu B  loom %10.1f us  %s %10.1f us  "
                      "ratio %.2f  busbw %.2f GB/s  %s", a.collective.c_str(), n, pt.bytes,
                      pt.loom_s * 1e6, baseline.c_str(), pt.native_s * 1e6, ratio, busbw,
                      pt.chosen.c_str());
      } else {
        std::snprintf(line, sizeof(line), "%-10s %2d ranks %12zu B  loom %10.1f us  algbw %.2f GB/s  "
                      "busbw %.2f GB/s  %s", a.collective.c_str(), n, pt.bytes, pt.loom_s * 1e6, algbw,
                      busbw, pt.chosen.c_str());
      }
      ctx.Emit(rec, line);
    }
    return OkStatus();
  };
  return RunOnBackend(a.backend, a.ranks, body);
}

}  // namespace

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

Status RunOnBackend(const std::string& backend, int ranks,
                    const std::function<Status(Communicator&, void*)>& body) {
  LOOM_ASSIGN_OR_RETURN(std::shared_ptr<const comm::TuningTable> tuning, comm::TuningFromEnvironment());
  if (backend == "thread") {
    if (ranks < 1) return InvalidArgumentError("--ranks must be at least 1");
    return comm::thread::RunRanks(ranks, [&](Communicator& c) {
      c.set_tuning(tuning);
      return body(c, nullptr);
    });
  }
  if (backend == "mpi") {
#ifdef LOOM_HAVE_MPI
    LOOM_RETURN_IF_ERROR(comm::mpi::InitMpi());
    Status s;
    {
      auto t = comm::mpi::WorldTransport();
      if (!t.ok()) return t.status();
      Communicator c(std::move(*t));
      c.set_timeout_ms(0);  // block in MPI_Waitall: no spinning on oversubscribed cores
      c.set_tuning(tuning);
      MPI_Comm native;
      MPI_Comm_dup(MPI_COMM_WORLD, &native);
      s = body(c, &native);
      MPI_Comm_free(&native);
    }
    comm::mpi::FinalizeMpi();
    return s;
#else
    return FailedPreconditionError("this loom was built without MPI");
#endif
  }
  return InvalidArgumentError(StrCat("--backend ", backend, ": thread or mpi"));
}

void RegisterCommBench(CLI::App& group, Context& ctx) {
  auto a = std::make_shared<BenchArgs>();
  CLI::App* b = group.add_subcommand("bench", "Time collectives (verified first), busbw like nccl-tests");
  b->add_option("--backend", a->backend,
                "thread, mpi (under mpirun: also times OpenMPI's own) or nccl (device buffers, one "
                "rank per GPU: also times NCCL called directly)");
  b->add_option("--ranks", a->ranks, "Thread ranks (thread backend); nccl: at most this many GPUs");
  b->add_option("--collective", a->collective,
                "allreduce, allgather, alltoall or adasum; nccl: also reducescatter, broadcast");
  b->add_option("--algorithm", a->algorithm, "auto ring halving_doubling pairwise ...");
  b->add_option("--min-bytes", a->min_bytes, "Smallest size, e.g. 4B");
  b->add_option("--max-bytes", a->max_bytes, "Largest size, e.g. 256MiB");
  b->add_option("--factor", a->factor, "Size step factor");
  b->add_option("--iters", a->iters, "Timed repetitions per size (median)");
  b->add_option("--loop", a->loop,
                "Sizes under 1 MiB: calls back to back per timed repetition, reported per call "
                "(small-size latency as OSU and nccl-tests time it); default: one call after a "
                "barrier");
  b->add_option("--tensors", a->tensors, "adasum: split the vector into this many tensors");
  b->add_option("--exchange", a->exchange,
                 "adasum: in-place (read the partner's half where it lies), on-arrival (dots on "
                 "each landed piece), copy (land it, then a dot pass) or read (MPI on one node: "
                 "land it in windows read from the partner, dots on each window)");
  b->add_flag("--registered", a->registered,
              "Every buffer (loom's and OpenMPI's) from the transport's registered memory "
              "(Transport::AllocateShared; MPI on one node): peers memcpy instead of a syscall");
  b->add_option("--local-size", a->local_size,
                "adasum: hierarchical Adasum (Horovod's GPU mode) with nodes of N consecutive "
                "ranks, or 'host' (the ranks of one host under mpirun); the baseline is the "
                "hierarchical sum");
  b->add_flag("--sum-in-place", a->sum_in_place,
              "adasum: the sum baseline also reads the partner's half in place");
  ctx.SetVerb(b, [&ctx, a] { return Bench(ctx, *a); });
}

}  // namespace loom::cli
