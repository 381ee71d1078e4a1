// `loom comm model`: the α-β-γ cost model (loom/comm/cost_model.h) over a size sweep: every
// point-to-point algorithm's modelled time, the model's choice and kAuto's built-in choice;
// with --replay, each algorithm's real schedule recorded on thread ranks and replayed under the
// same model (loom/comm/schedule_trace.h), which must agree with the closed form.
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "loom/base/strings.h"
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

Status Model(Context& ctx, const ModelArgs& a) {
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
  comm::CostParams c;
  LOOM_ASSIGN_OR_RETURN(c.alpha_s, ParseSeconds(a.alpha, "--alpha"));
  LOOM_ASSIGN_OR_RETURN(double bw, ParseRate(a.bandwidth, "--bandwidth"));
  LOOM_ASSIGN_OR_RETURN(double rbw, ParseRate(a.reduce_bandwidth, "--reduce-bandwidth"));
  c.beta_s_per_byte = 1 / bw;
  c.gamma_s_per_byte = 1 / rbw;
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
    ctx.Emit(Json::object(), StrCat("alpha ", a.alpha, ", bandwidth ", a.bandwidth,
                                    ", reduce bandwidth ", a.reduce_bandwidth, "; ", a.collective,
                                    " on ", a.ranks, " ranks\n", FormatTable(header, rows)));
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
  m->add_flag(
      "--replay", a->replay,
      "Also record each algorithm's schedule on thread ranks and replay it under the model");
  ctx.SetVerb(m, [&ctx, a] { return Model(ctx, *a); });
}

}  // namespace loom::cli
