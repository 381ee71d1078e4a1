// `loom comm model`: the α-β-γ cost model (loom/comm/cost_model.h) over a size sweep: every
// point-to-point algorithm's modelled time, the model's choice and kAuto's built-in choice;
// with --replay, each algorithm's real schedule recorded on thread ranks and replayed under the
// same model (loom/comm/schedule_trace.h), which must agree with the closed form.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/comm/cost_model.h"
#include "loom/comm/schedule_trace.h"
#include "loom/comm/thread/traced_collective.h"
#include "loom/comm/tuning.h"

#include "comm_bench.h"
#include "table.h"

namespace loom::cli {
namespace {

using comm::Algorithm;
using comm::CollectiveKind;

struct ModelArgs {
  std::string collective = "allreduce";
  int ranks = 8, factor = 4;
  std::string min_bytes = "4B", max_bytes = "256MiB";
  // A 100 Gb/s InfiniBand link under MPI, and a reduction at memory speed.
  std::string alpha = "2us", bandwidth = "12.5GB/s", reduce_bandwidth = "20GB/s";
  bool replay = false;
  bool fit = false;                // measure α, β (ping-pong) and γ (ReduceInto) on `backend`
  std::string backend = "thread";  // --fit: thread (2 thread ranks) or mpi (ranks 0 and 1)
};

struct Unit {
  const char* name;  // "" = no suffix
  double scale;
};
constexpr Unit kTimeUnits[] = {{"", 1}, {"s", 1}, {"ms", 1e-3}, {"us", 1e-6}, {"ns", 1e-9}};
constexpr Unit kRateUnits[] = {
    {"", 1},       {"B/s", 1},        {"KB/s", 1e3},        {"MB/s", 1e6},
    {"GB/s", 1e9}, {"KiB/s", 1024.0}, {"MiB/s", 1048576.0}, {"GiB/s", 1073741824.0}};

// A number with one of `units` after it ("2us", "12.5GB/s", "1e-6"), >= `min` (and > 0 when
// `positive`), scaled to the base unit; `expected` describes the form for the error.
template <size_t N>
StatusOr<double> ParseQuantity(const std::string& text, std::string_view what,
                               const Unit (&units)[N], bool positive, std::string_view expected) {
  auto bad = [&] {
    return InvalidArgumentError(StrCat(what, " '", text, "': expected ", expected));
  };
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (...) {
    return bad();
  }
  const std::string suffix = text.substr(used);
  for (const Unit& u : units)
    if (suffix == u.name) {
      if (!std::isfinite(v) || v < 0 || (positive && v == 0)) return bad();
      return v * u.scale;
    }
  return bad();
}

// "2us", "1.5e-6", "300ns", "1ms", "0.5s" -> seconds.
StatusOr<double> ParseSeconds(const std::string& text, std::string_view what) {
  return ParseQuantity(text, what, kTimeUnits, false, "a time >= 0 in s, ms, us or ns, e.g. 2us");
}

// "12.5GB/s", "10GiB/s", "800MB/s", "1e9" (bytes per second) -> bytes per second; "inf" = free.
StatusOr<double> ParseRate(const std::string& text, std::string_view what) {
  if (text == "inf") return INFINITY;
  return ParseQuantity(text, what, kRateUnits, true,
                       "a rate > 0 in B/s, KB/s, MB/s, GB/s (or KiB/s, MiB/s, GiB/s), or inf");
}

std::string Micros(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", s * 1e6);
  return buf;
}

// α, β from a ping-pong between ranks 0 and 1 (8 B-4 MiB, median of 30 round trips / 2 per
// size) and γ from ReduceInto over 1 MiB of f32 on rank 0; meaningful on rank 0 only.
StatusOr<comm::CostParams> Fit(comm::Communicator& c,
                               std::vector<std::pair<size_t, double>>* samples) {
  comm::CostParams params;
  if (c.size() < 2) return InvalidArgumentError("--fit: needs 2 or more ranks");
  const int r = c.rank();
  std::vector<std::pair<size_t, double>> one_way;
  std::vector<std::byte> buf(size_t{4} << 20);
  comm::Transport& t = c.transport();
  const int tag = c.NextTagBase();
  for (size_t bytes : {size_t{8}, size_t{64}, size_t{512}, size_t{4} << 10, size_t{32} << 10,
                       size_t{256} << 10, size_t{1} << 20, size_t{4} << 20}) {
    std::vector<double> rtt;
    for (int it = -3; it < 30; ++it) {
      Stopwatch sw;
      if (r == 0) {
        LOOM_RETURN_IF_ERROR(t.Send(1, tag, {buf.data(), bytes}));
        LOOM_RETURN_IF_ERROR(t.Recv(1, tag, {buf.data(), bytes}));
      } else if (r == 1) {
        LOOM_RETURN_IF_ERROR(t.Recv(0, tag, {buf.data(), bytes}));
        LOOM_RETURN_IF_ERROR(t.Send(0, tag, {buf.data(), bytes}));
      }
      if (it >= 0) rtt.push_back(sw.ElapsedSeconds());
    }
    one_way.push_back({bytes, Median(rtt) / 2});
  }
  if (r == 0 && samples != nullptr) *samples = one_way;
  if (r == 0) {
    LOOM_ASSIGN_OR_RETURN(params, comm::FitAlphaBeta(one_way));
    std::vector<float> x(size_t{256} << 10, 1.0f), y(x.size(), 0.5f);
    std::vector<double> red;
    for (int it = -3; it < 20; ++it) {
      Stopwatch sw;
      comm::ReduceInto(comm::DataType::kF32, comm::ReduceOp::kSum, x.data(), y.data(), x.size());
      if (it >= 0) red.push_back(sw.ElapsedSeconds());
    }
    params.gamma_s_per_byte = Median(red) / static_cast<double>(x.size() * 4);
  }
  LOOM_RETURN_IF_ERROR(c.Barrier());
  return params;
}

struct Sweep {
  CollectiveKind kind;
  uint64_t lo, hi;
};

// The sweep's options, checked before anything runs.
StatusOr<Sweep> ParseSweep(const ModelArgs& a) {
  LOOM_ASSIGN_OR_RETURN(CollectiveKind kind, comm::ParseCollectiveKind(a.collective));
  if (kind == CollectiveKind::kBarrier)
    return InvalidArgumentError("--collective barrier: not modelled (no algorithm choice)");
  if (a.ranks < 1) return InvalidArgumentError("--ranks must be at least 1");
  if (a.factor < 2) return InvalidArgumentError("--factor must be at least 2");
  LOOM_ASSIGN_OR_RETURN(uint64_t lo, ParseByteSize(a.min_bytes, "--min-bytes"));
  LOOM_ASSIGN_OR_RETURN(uint64_t hi, ParseByteSize(a.max_bytes, "--max-bytes"));
  if (lo < 1 || hi < lo) return InvalidArgumentError("need 1B <= --min-bytes <= --max-bytes");
  // --replay runs the schedule for real on thread ranks: every rank holds its buffers.
  constexpr uint64_t kReplayMaxBytes = uint64_t{64} << 20;
  if (a.replay && hi > kReplayMaxBytes)
    return InvalidArgumentError(
        "--replay: --max-bytes at most 64MiB (the schedules run for real on thread ranks)");
  if (a.replay && a.ranks > 64) return InvalidArgumentError("--replay: at most 64 ranks");
  return Sweep{kind, lo, hi};
}

// The sweep under the given parameters (`what` names where they came from).
Status PrintModel(Context& ctx, const ModelArgs& a, const comm::CostParams& c,
                  const std::string& what);

Status Model(Context& ctx, const ModelArgs& a) {
  LOOM_RETURN_IF_ERROR(ParseSweep(a).status());
  if (a.fit) {
    if (a.backend != "thread" && a.backend != "mpi")
      return InvalidArgumentError(StrCat("--backend ", a.backend, ": thread or mpi"));
    return RunOnBackend(a.backend, 2, [&](comm::Communicator& c, void*) -> Status {
      std::vector<std::pair<size_t, double>> samples;
      LOOM_ASSIGN_OR_RETURN(comm::CostParams params, Fit(c, &samples));
      if (c.rank() != 0) return OkStatus();
      std::string measured = "one-way:";
      for (const auto& [bytes, sec] : samples) {
        char item[64];
        std::snprintf(item, sizeof(item), " %s %.1f us", FormatBytes(bytes).c_str(), sec * 1e6);
        measured += item;
        if (ctx.globals.json) ctx.Emit({{"pingpong_bytes", bytes}, {"one_way_us", sec * 1e6}});
      }
      if (!ctx.globals.json) ctx.Emit(Json::object(), measured);
      char what[160];
      std::snprintf(what, sizeof(what),
                    "fitted on %s (ping-pong 8 B-4 MiB, ranks 0-1): alpha %.2f us, bandwidth "
                    "%.2f GB/s, reduce bandwidth %.2f GB/s",
                    a.backend.c_str(), params.alpha_s * 1e6,
                    params.beta_s_per_byte > 0 ? 1e-9 / params.beta_s_per_byte : INFINITY,
                    1e-9 / params.gamma_s_per_byte);
      if (ctx.globals.json)
        ctx.Emit({{"fit_backend", a.backend},
                  {"alpha_us", params.alpha_s * 1e6},
                  {"beta_s_per_byte", params.beta_s_per_byte},
                  {"gamma_s_per_byte", params.gamma_s_per_byte}});
      return PrintModel(ctx, a, params, what);
    });
  }
  comm::CostParams c;
  LOOM_ASSIGN_OR_RETURN(c.alpha_s, ParseSeconds(a.alpha, "--alpha"));
  LOOM_ASSIGN_OR_RETURN(double bw, ParseRate(a.bandwidth, "--bandwidth"));
  LOOM_ASSIGN_OR_RETURN(double rbw, ParseRate(a.reduce_bandwidth, "--reduce-bandwidth"));
  c.beta_s_per_byte = 1 / bw;
  c.gamma_s_per_byte = 1 / rbw;
  return PrintModel(ctx, a, c,
                    StrCat("alpha ", a.alpha, ", bandwidth ", a.bandwidth, ", reduce bandwidth ",
                           a.reduce_bandwidth));
}

Status PrintModel(Context& ctx, const ModelArgs& a, const comm::CostParams& c,
                  const std::string& what) {
  LOOM_ASSIGN_OR_RETURN(Sweep sweep, ParseSweep(a));
  const CollectiveKind kind = sweep.kind;
  const uint64_t lo = sweep.lo, hi = sweep.hi;
  const std::vector<Algorithm> algos = comm::ModelledAlgorithms(kind, a.ranks);
  if (algos.empty())
    return InvalidArgumentError(
        StrCat("--collective ", a.collective, ": no point-to-point algorithm"));
  std::vector<std::string> header = {"bytes"};
  for (Algorithm al : algos) header.push_back(StrCat(comm::AlgorithmName(al), " us"));
  if (a.replay) header.push_back("replay vs model");
  header.push_back("model picks");
  header.push_back("kAuto picks");
  std::vector<std::vector<std::string>> rows;
  for (uint64_t b = lo; b <= hi; b *= static_cast<uint64_t>(a.factor)) {
    std::vector<std::string> row = {FormatBytes(b)};
    // The traced call moves whole f32 elements (per rank for the blocked collectives), so the
    // replay is compared with the model at those bytes.
    const bool whole = kind == CollectiveKind::kAllReduce || kind == CollectiveKind::kBroadcast ||
                       kind == CollectiveKind::kReduce;
    const uint64_t unit = whole ? 4 : 4 * static_cast<uint64_t>(a.ranks);
    const uint64_t traced = b / unit * unit;
    double worst = 0;  // largest |replay - model| / model over the algorithms
    for (Algorithm al : algos) {
      LOOM_ASSIGN_OR_RETURN(double s, comm::ModelSeconds(kind, al, a.ranks, b, c));
      Json rec = {{"collective", a.collective},
                  {"ranks", a.ranks},
                  {"bytes", b},
                  {"algorithm", comm::AlgorithmName(al)},
                  {"model_us", s * 1e6}};
      if (a.replay) {
        LOOM_ASSIGN_OR_RETURN(auto traces, comm::thread::TraceCollective(kind, al, a.ranks, b));
        LOOM_ASSIGN_OR_RETURN(double t, comm::ReplaySeconds(traces, c));
        LOOM_ASSIGN_OR_RETURN(double m, comm::ModelSeconds(kind, al, a.ranks, traced, c));
        rec["traced_bytes"] = traced;
        rec["replay_us"] = t * 1e6;
        rec["model_at_traced_us"] = m * 1e6;
        // The closed forms assume even blocks; with uneven ones the largest block sets each
        // step and the replay is the larger.
        if (m > 0) worst = std::max(worst, std::abs(t - m) / m);
      }
      if (ctx.globals.json) ctx.Emit(rec);
      row.push_back(Micros(s));
    }
    if (a.replay) {
      char pct[32];
      std::snprintf(pct, sizeof(pct), "%.3g %%", worst * 100);
      row.push_back(worst < 1e-9 ? std::string("equal")
                                 : StrCat("off by ", pct, " (uneven blocks)"));
    }
    LOOM_ASSIGN_OR_RETURN(Algorithm pick, comm::ModelChoice(kind, a.ranks, b, c));
    row.push_back(std::string(comm::AlgorithmName(pick)));
    row.push_back(std::string(comm::AlgorithmName(comm::SelectAlgorithm(kind, a.ranks, b))));
    rows.push_back(std::move(row));
    if (b > hi / static_cast<uint64_t>(a.factor)) break;  // the next step would overflow or pass hi
  }
  if (!ctx.globals.json)
    ctx.Emit(Json::object(), StrCat(what, "; ", a.collective, " on ", a.ranks, " ranks\n",
                                    FormatTable(header, rows)));
  return OkStatus();
}

}  // namespace

void RegisterCommModel(CLI::App& group, Context& ctx) {
  auto a = std::make_shared<ModelArgs>();
  CLI::App* m = group.add_subcommand(
      "model", "Alpha-beta-gamma cost of each collective algorithm over a size sweep");
  m->add_option(
      "--collective", a->collective,
      "allreduce allgather reducescatter alltoall alltoallv broadcast reduce gather scatter");
  m->add_option("--ranks", a->ranks, "Ranks (default 8)");
  m->add_option("--min-bytes", a->min_bytes, "Smallest size (bytes as kAuto counts them)");
  m->add_option("--max-bytes", a->max_bytes, "Largest size");
  m->add_option("--factor", a->factor, "Size step");
  m->add_option("--alpha", a->alpha, "Per-message latency, e.g. 2us (default)");
  m->add_option("--bandwidth", a->bandwidth, "Link bandwidth, e.g. 12.5GB/s (default)");
  m->add_option("--reduce-bandwidth", a->reduce_bandwidth,
                "Reduction throughput, e.g. 20GB/s (default); inf = free");
  m->add_flag("--fit", a->fit,
              "Measure alpha and bandwidth (ping-pong between ranks 0 and 1) and the reduce "
              "bandwidth on --backend instead of taking them from the options");
  m->add_option("--backend", a->backend, "--fit: thread (default) or mpi (under mpirun)");
  m->add_flag(
      "--replay", a->replay,
      "Also record each algorithm's schedule on thread ranks and replay it under the model");
  ctx.SetVerb(m, [&ctx, a] { return Model(ctx, *a); });
}

}  // namespace loom::cli
