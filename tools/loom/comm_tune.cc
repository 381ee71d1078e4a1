// `loom comm tune`: times every algorithm that implements each collective over a size sweep on
// the chosen backend (thread ranks, or the mpirun world with --backend mpi), checks that all
// algorithms give bitwise the same output (integer-valued floats: every order is exact), picks
// the fastest per size and writes the ranges as a tuning table (docs/formats/comm-tuning.md),
// atomically, from rank 0.
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "comm_bench.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/comm/communicator.h"
#include "loom/comm/tuning.h"

namespace loom::cli {
namespace {

using comm::Algorithm;
using comm::CollectiveKind;
using comm::Communicator;
using comm::DataType;

struct TuneArgs {
  std::string backend = "thread", output, collectives = "allreduce,allgather,gather,scatter";
  int ranks = 8, factor = 4, iters = 5;
  std::string min_bytes = "64B", max_bytes = "4MiB";
};

constexpr Algorithm kCandidates[] = {Algorithm::kRing,     Algorithm::kHalvingDoubling,
                                     Algorithm::kRecursiveDoubling, Algorithm::kBinomial,
                                     Algorithm::kPairwise, Algorithm::kLinear, Algorithm::kBruck,
                                     Algorithm::kShm};

bool PerRankCount(CollectiveKind k) {
  return k != CollectiveKind::kAllReduce && k != CollectiveKind::kBroadcast &&
         k != CollectiveKind::kReduce;
}

// One call of `kind` with `a` on f32 buffers; root 0.
Status Call(Communicator& c, CollectiveKind kind, Algorithm a, const std::vector<float>& in,
            std::vector<float>& out, size_t count) {
  const comm::CollectiveOptions o{.algorithm = a};
  const auto sum = comm::ReduceOp::kSum;
  switch (kind) {
    case CollectiveKind::kAllReduce: return c.AllReduce(in.data(), out.data(), count, DataType::kF32, sum, o);
    case CollectiveKind::kAllGather: return c.AllGather(in.data(), out.data(), count, DataType::kF32, o);
    case CollectiveKind::kReduceScatter: return c.ReduceScatter(in.data(), out.data(), count, DataType::kF32, sum, o);
    case CollectiveKind::kAllToAll: return c.AllToAll(in.data(), out.data(), count, DataType::kF32, o);
    case CollectiveKind::kBroadcast:
      std::copy(in.begin(), in.begin() + static_cast<long>(count), out.begin());
      return c.Broadcast(out.data(), count, DataType::kF32, 0, o);
    case CollectiveKind::kReduce: return c.Reduce(in.data(), out.data(), count, DataType::kF32, sum, 0, o);
    case CollectiveKind::kGather: return c.Gather(in.data(), out.data(), count, DataType::kF32, 0, o);
    case CollectiveKind::kScatter: return c.Scatter(in.data(), out.data(), count, DataType::kF32, 0, o);
    default: return InvalidArgumentError(StrCat("tune: ", comm::CollectiveKindName(kind), " is not tunable"));
  }
}

// Median seconds (max over ranks per iteration) of `a` at `count`; `first` holds the first
// algorithm's output, which every other must reproduce exactly.
StatusOr<double> TimeOne(Communicator& c, CollectiveKind kind, Algorithm a, size_t count, int iters,
                         std::vector<float>& first, bool is_first) {
  const size_t p = static_cast<size_t>(c.size());
  const bool big_in = kind == CollectiveKind::kReduceScatter || kind == CollectiveKind::kAllToAll ||
                      kind == CollectiveKind::kScatter;
  const bool big_out = kind == CollectiveKind::kAllGather || kind == CollectiveKind::kAllToAll ||
                       kind == CollectiveKind::kGather;
  std::vector<float> in(big_in ? count * p : count), out(big_out ? count * p : count, 0.0f);
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = static_cast<float>((static_cast<size_t>(c.rank()) * 7 + i * 3) % 9) - 3.0f;
  LOOM_RETURN_IF_ERROR(Call(c, kind, a, in, out, count));
  if (is_first) first = out;
  else if (out != first)
    return InternalError(StrCat("tune: ", comm::AlgorithmName(a), " ", comm::CollectiveKindName(kind),
                                " disagrees with the first algorithm at ", count, " elements"));
  std::vector<double> times;
  for (int it = 0; it < iters; ++it) {
    LOOM_RETURN_IF_ERROR(c.Barrier());
    Stopwatch sw;
    LOOM_RETURN_IF_ERROR(Call(c, kind, a, in, out, count));
    double t = sw.ElapsedSeconds();
    LOOM_RETURN_IF_ERROR(c.AllReduce(&t, &t, 1, DataType::kF64, comm::ReduceOp::kMax));
    times.push_back(t);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

Status Tune(Context& ctx, const TuneArgs& a) {
  if (a.output.empty()) return InvalidArgumentError("tune: -o/--output is required");
  LOOM_ASSIGN_OR_RETURN(uint64_t lo, ParseByteSize(a.min_bytes, "--min-bytes"));
  LOOM_ASSIGN_OR_RETURN(uint64_t hi, ParseByteSize(a.max_bytes, "--max-bytes"));
  if (lo < 4 || hi < lo) return InvalidArgumentError("need 4B <= --min-bytes <= --max-bytes");
  if (a.iters < 1 || a.factor < 2) return InvalidArgumentError("need --iters >= 1 and --factor >= 2");
  std::vector<CollectiveKind> kinds;
  for (const std::string& name : StrSplit(a.collectives, ',')) {
    StatusOr<CollectiveKind> k = comm::ParseCollectiveKind(name);
    if (!k.ok() || *k == CollectiveKind::kAllToAllV)
      return InvalidArgumentError(StrCat("--collectives: '", name, "' (allreduce allgather "
                                         "reducescatter alltoall broadcast reduce gather scatter)"));
    kinds.push_back(*k);
  }
  return RunOnBackend(a.backend, a.ranks, [&](Communicator& c, void*) -> Status {
    const int p = c.size();
    const size_t pc = static_cast<size_t>(p);
    comm::TuningTable table;
    table.backend = a.backend;
    for (CollectiveKind kind : kinds) {
      std::vector<comm::TuningRange> ranges;
      for (uint64_t b = lo; b <= hi; b *= static_cast<uint64_t>(a.factor)) {
        // The element count, and the byte measure kAuto looks up (communicator.h).
        const size_t count = std::max<size_t>(1, PerRankCount(kind) ? b / 4 / pc : b / 4);
        const size_t key = count * 4 * (PerRankCount(kind) ? pc : 1);
        std::vector<float> first;
        Algorithm best = Algorithm::kAuto;
        double best_s = 0;
        for (Algorithm alg : kCandidates) {
          if (!comm::Implements(alg, kind, p)) continue;
          // Shared memory only where the transport offers it (MPI ranks on one node).
          if (alg == Algorithm::kShm && !c.transport().shared_memory_available()) continue;
          LOOM_ASSIGN_OR_RETURN(double s, TimeOne(c, kind, alg, count, a.iters, first,
                                                  best == Algorithm::kAuto));
          if (c.rank() == 0)
            ctx.Emit({{"collective", comm::CollectiveKindName(kind)}, {"ranks", p}, {"bytes", key},
                      {"algorithm", comm::AlgorithmName(alg)}, {"us", s * 1e6}, {"verified", true}},
                     StrCat(comm::CollectiveKindName(kind), " ", p, " ranks ", key, " B  ",
                            comm::AlgorithmName(alg), " ", s * 1e6, " us"));
          if (best == Algorithm::kAuto || s < best_s) {
            best = alg;
            best_s = s;
          }
        }
        // Extend the last range or start a new one at this size.
        if (!ranges.empty() && ranges.back().algorithm == best) ranges.back().up_to_bytes = key;
        else if (ranges.empty() || key > *ranges.back().up_to_bytes) ranges.push_back({key, best});
      }
      ranges.back().up_to_bytes.reset();  // the largest measured winner covers everything above
      LOOM_RETURN_IF_ERROR(table.Set(p, kind, std::move(ranges)));
    }
    if (c.rank() != 0) return OkStatus();
    LOOM_RETURN_IF_ERROR(table.WriteFile(a.output));
    ctx.Emit({{"tuning_table", a.output}, {"ranks", p}, {"backend", a.backend}},
             StrCat("wrote ", a.output, " (", p, " ranks, ", a.backend, ")"));
    return OkStatus();
  });
}

}  // namespace

void RegisterCommTune(CLI::App& group, Context& ctx) {
  auto a = std::make_shared<TuneArgs>();
  CLI::App* t = group.add_subcommand(
      "tune", "Time each algorithm per collective over a size sweep; write the fastest per size range");
  t->add_option("-o,--output", a->output, "Tuning table to write (JSON)")->required();
  t->add_option("--backend", a->backend, "thread, or mpi (under mpirun)");
  t->add_option("--ranks", a->ranks, "Thread ranks (thread backend)");
  t->add_option("--collectives", a->collectives, "Comma-separated collectives to tune");
  t->add_option("--min-bytes", a->min_bytes, "Smallest size (bytes as kAuto measures them)");
  t->add_option("--max-bytes", a->max_bytes, "Largest size");
  t->add_option("--factor", a->factor, "Size step factor");
  t->add_option("--iters", a->iters, "Timed repetitions per point (median)");
  ctx.SetVerb(t, [&ctx, a] { return Tune(ctx, *a); });
}

}  // namespace loom::cli
