// `loom comm ...`: validate, run, convert and generate MSCCL programs; benchmark collectives
// (thread backend, or MPI under mpirun side by side with OpenMPI's own collectives); and the
// comm stage of `loom demo`.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <cstring>
#include <memory>
#include <numeric>
#include <optional>
#include <vector>

#include "cli.h"
#include "loom/adasum/adasum.h"
#include "loom/adasum/reference.h"
#include "loom/base/random.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/comm/communicator.h"
#include "loom/comm/interpreter.h"
#include "loom/comm/program/generators.h"
#include "loom/comm/program/validate.h"
#include "loom/comm/program/xml.h"
#include "loom/comm/thread/thread_transport.h"
#include "comm_bench.h"
#ifdef LOOM_HAVE_NCCL
#include "loom/comm/nccl/bench.h"
#include "loom/comm/nccl/nccl_comm.h"
#endif

namespace loom::cli {
namespace {

namespace pg = ::loom::comm::program;
using comm::Communicator;
using comm::DataType;
using comm::ReduceOp;

struct ValidateArgs {
  std::string file, dialect;
  int credits = 2;
};

Status Validate(Context& ctx, const ValidateArgs& a) {
  LOOM_ASSIGN_OR_RETURN(pg::ParsedXml parsed, pg::ReadMscclXmlFile(a.file));
  pg::ValidateOptions o;
  o.credits = a.credits;
  if (!a.dialect.empty()) {
    LOOM_ASSIGN_OR_RETURN(o.dialect, pg::ParseDialect(a.dialect));
  }
  std::vector<Status> problems = pg::FindProblems(parsed.program, o);
  Json rec = {{"file", a.file},
              {"detected_dialect", pg::DialectName(parsed.dialect)},
              {"rules", o.dialect ? std::string(pg::DialectName(*o.dialect)) : "loom"},
              {"ranks", parsed.program.num_ranks},
              {"collective", pg::CollectiveDisplayName(parsed.program.collective)},
              {"valid", problems.empty()}};
  Json list = Json::array();
  for (const Status& s : problems) list.push_back(s.message());
  rec["problems"] = list;
  std::string human = StrCat(a.file, ": ", problems.empty() ? "valid" : "INVALID", " (",
                             pg::CollectiveDisplayName(parsed.program.collective), ", ",
                             parsed.program.num_ranks, " ranks, ", pg::DialectName(parsed.dialect),
                             " dialect, checked with ", rec["rules"].get<std::string>(), " rules)");
  for (const Status& s : problems) human += "\n  " + s.message();
  ctx.Emit(rec, human);
  if (!problems.empty())
    return InvalidArgumentError(StrCat(a.file, ": ", problems.size(), " problem(s); first: ",
                                       problems[0].message()));
  return OkStatus();
}

struct RunArgs {
  std::string file;
  int ranks = 0;
  std::string bytes = "1MiB";
  std::string dtype = "f32", op = "sum", slice = "2MiB";
  int iters = 5;
  int schedules = 0;  // extra runs under randomized schedules (race hunting)
};

// Integer-valued inputs make every reduction order exact, so results compare bitwise.
float InputValue(int rank, size_t i) { return static_cast<float>((rank * 7 + static_cast<int>(i % 4099) * 3) % 9) - 3.0f; }

// The expected output of `rank` for the standard collectives (sum), or nullopt when the
// collective's result is not defined by (rank, input) alone.
std::optional<std::vector<float>> Expected(const pg::Program& p, int rank, const comm::BufferShape& s) {
  const int n = p.num_ranks;
  std::vector<float> out(s.output_elements);
  switch (p.collective) {
    case pg::Collective::kAllReduce:
      for (size_t i = 0; i < out.size(); ++i)
        for (int r = 0; r < n; ++r) out[i] += InputValue(r, i);
      return out;
    case pg::Collective::kReduceScatter:
      for (size_t i = 0; i < out.size(); ++i)
        for (int r = 0; r < n; ++r) out[i] += InputValue(r, static_cast<size_t>(rank) * out.size() + i);
      return out;
    case pg::Collective::kAllGather: {
      size_t per = out.size() / static_cast<size_t>(n);
      for (size_t i = 0; i < out.size(); ++i) out[i] = InputValue(static_cast<int>(i / per), i % per);
      return out;
    }
    case pg::Collective::kAllToAll: {
      size_t per = out.size() / static_cast<size_t>(n);
      for (size_t i = 0; i < out.size(); ++i)
        out[i] = InputValue(static_cast<int>(i / per), static_cast<size_t>(rank) * per + i % per);
      return out;
    }
    default:
      return std::nullopt;
  }
}

Status RunProgram(Context& ctx, const RunArgs& a) {
  LOOM_ASSIGN_OR_RETURN(pg::ParsedXml parsed, pg::ReadMscclXmlFile(a.file));
  const pg::Program& p = parsed.program;
  int ranks = a.ranks == 0 ? p.num_ranks : a.ranks;
  if (ranks != p.num_ranks)
    return InvalidArgumentError(StrCat("--ranks ", ranks, " but ", a.file, " is for ngpus=", p.num_ranks));
  LOOM_ASSIGN_OR_RETURN(DataType dtype, comm::ParseDataType(a.dtype));
  LOOM_ASSIGN_OR_RETURN(ReduceOp op, comm::ParseReduceOp(a.op));
  LOOM_ASSIGN_OR_RETURN(uint64_t bytes, ParseByteSize(a.bytes, "--bytes"));
  LOOM_ASSIGN_OR_RETURN(uint64_t slice, ParseByteSize(a.slice, "--slice"));
  if (a.iters < 1) return InvalidArgumentError("--iters must be at least 1");
  const bool verify = dtype == DataType::kF32 && op == ReduceOp::kSum;
  // count: the collective's count, rounded down to a multiple the program can split evenly.
  const size_t es = comm::DataTypeSize(dtype);
  size_t m = static_cast<size_t>(pg::SizeMultiplier(p.collective, p.num_ranks));
  size_t unit = static_cast<size_t>(p.chunks_per_loop) / std::gcd(static_cast<size_t>(p.chunks_per_loop), m);
  size_t count = std::max<size_t>(unit, (bytes / es) / unit * unit);
  std::vector<double> seconds(static_cast<size_t>(ranks));
  bool verified = false;
  Status st = comm::thread::RunRanks(ranks, [&](Communicator& c) -> Status {
    LOOM_ASSIGN_OR_RETURN(comm::BufferShape shape, comm::ShapeFor(p, c.rank(), count));
    std::vector<std::byte> in(shape.input_elements * es), out(shape.output_elements * es);
    if (dtype == DataType::kF32)
      for (size_t i = 0; i < shape.input_elements; ++i)
        reinterpret_cast<float*>(in.data())[i] = InputValue(c.rank(), i);
    comm::ExecuteOptions o;
    o.slice_bytes = slice;
    LOOM_RETURN_IF_ERROR(comm::Execute(p, c, in.data(), out.data(), count, dtype, op, o));
    if (verify) {
      auto want = Expected(p, c.rank(), shape);
      if (want) {
        if (std::memcmp(want->data(), out.data(), out.size()) != 0)
          return InternalError(StrCat("rank ", c.rank(), ": output differs from the sequential reference"));
        if (c.rank() == 0) verified = true;
      }
    }
    // Randomized schedules: a race-free program gives bitwise the same output under each.
    for (int k = 1; k <= a.schedules; ++k) {
      std::vector<std::byte> again(out.size());
      comm::ExecuteOptions so;
      so.slice_bytes = slice;
      so.validate = false;
      so.schedule_seed = static_cast<uint64_t>(k);
      LOOM_RETURN_IF_ERROR(comm::Execute(p, c, in.data(), again.data(), count, dtype, op, so));
      if (again != out)
        return InternalError(StrCat("rank ", c.rank(), ": random schedule ", k,
                                    " gives a different output than the first run (a race)"));
    }
    std::vector<double> times;
    for (int it = 0; it < a.iters; ++it) {
      LOOM_RETURN_IF_ERROR(c.Barrier());
      Stopwatch sw;
      LOOM_RETURN_IF_ERROR(comm::Execute(p, c, in.data(), out.data(), count, dtype, op,
                                         {.slice_bytes = slice, .validate = false}));
      double t = sw.ElapsedSeconds();
      LOOM_RETURN_IF_ERROR(c.AllReduce(&t, &t, 1, DataType::kF64, ReduceOp::kMax));
      times.push_back(t);
    }
    std::sort(times.begin(), times.end());
    seconds[static_cast<size_t>(c.rank())] = times[times.size() / 2];
    return OkStatus();
  });
  LOOM_RETURN_IF_ERROR(st);
  double t = seconds[0];
  double data_bytes = static_cast<double>(count * es * (p.collective == pg::Collective::kAllGather ||
                                                                p.collective == pg::Collective::kAllToAll
                                                            ? static_cast<size_t>(ranks) : 1));
  double algbw = data_bytes / t / 1e9;
  double busbw = algbw * BusFactor(std::string(pg::CollectiveDisplayName(p.collective)), ranks);
  Json rec = {{"file", a.file}, {"program", p.name}, {"collective", pg::CollectiveDisplayName(p.collective)},
              {"ranks", ranks}, {"count", count}, {"dtype", a.dtype}, {"op", a.op},
              {"median_us", t * 1e6}, {"algbw_GBps", algbw}, {"busbw_GBps", busbw},
              {"verified", verified}, {"random_schedules", a.schedules}};
  char line[256];
  std::snprintf(line, sizeof(line), "%s on %d thread ranks, %zu elements %s: %.1f us, algbw %.2f GB/s, "
                "busbw %.2f GB/s, %s", p.name.c_str(), ranks, count, a.dtype.c_str(), t * 1e6, algbw,
                busbw, verified ? "verified against the sequential reference" : "not verified (no reference for this collective/op)");
  std::string text = line;
  if (a.schedules > 0) text += StrCat("; the same output under ", a.schedules, " random schedules");
  ctx.Emit(rec, text);
  return OkStatus();
}

struct ConvertArgs {
  std::string in, out, to = "executor";
};

Status Convert(Context& ctx, const ConvertArgs& a) {
  LOOM_ASSIGN_OR_RETURN(pg::ParsedXml parsed, pg::ReadMscclXmlFile(a.in));
  LOOM_ASSIGN_OR_RETURN(pg::Dialect to, pg::ParseDialect(a.to));
  pg::ValidateOptions o;
  o.dialect = to;
  pg::Program p = parsed.program;
  pg::ComputeHasDep(p);
  if (to == pg::Dialect::kExecutor) {  // what the writer fills, so the check sees it
    if (!p.out_of_place) p.out_of_place = true;
    if (!p.min_bytes) p.min_bytes = 0;
    if (!p.max_bytes) p.max_bytes = pg::kLegacyDefaultMaxBytes;
  }
  LOOM_RETURN_IF_ERROR(pg::ValidateProgram(p, o).WithContext(a.in));
  LOOM_RETURN_IF_ERROR(pg::WriteMscclXmlFile(a.out, p, to));
  ctx.Emit({{"in", a.in}, {"out", a.out}, {"from", pg::DialectName(parsed.dialect)}, {"to", a.to}},
           StrCat(a.in, " (", pg::DialectName(parsed.dialect), ") -> ", a.out, " (", a.to, ")"));
  return OkStatus();
}

struct GenerateArgs {
  std::string kind, out, dialect = "msccl";
  int ranks = 8, channels = 1;
};

Status Generate(Context& ctx, const GenerateArgs& a) {
  StatusOr<pg::Program> p = InvalidArgumentError(
      StrCat("unknown program kind '", a.kind, "' (ring-allreduce, ring-allgather)"));
  if (a.kind == "ring-allreduce") p = pg::RingAllReduceProgram(a.ranks, a.channels);
  if (a.kind == "ring-allgather") p = pg::RingAllGatherProgram(a.ranks, a.channels);
  LOOM_RETURN_IF_ERROR(p.status());
  LOOM_ASSIGN_OR_RETURN(pg::Dialect d, pg::ParseDialect(a.dialect));
  LOOM_RETURN_IF_ERROR(pg::WriteMscclXmlFile(a.out, *p, d));
  ctx.Emit({{"out", a.out}, {"program", p->name}}, StrCat("wrote ", a.out, " (", p->name, ")"));
  return OkStatus();
}

// The demo: 8 thread ranks, an allreduce through the ring IR program and through Adasum.
StatusOr<DemoResult> CommDemo(Context& ctx) {
  const int p = 8;
  const size_t count = size_t{2} << 20;  // 8 MiB of f32
  LOOM_ASSIGN_OR_RETURN(pg::Program ring, pg::RingAllReduceProgram(p));
  LOOM_RETURN_IF_ERROR(pg::ValidateProgram(ring, {.dialect = pg::Dialect::kExecutor}));
  LOOM_ASSIGN_OR_RETURN(std::string xml, pg::WriteMscclXml(ring, pg::Dialect::kExecutor));
  LOOM_ASSIGN_OR_RETURN(pg::ParsedXml back, pg::ParseMscclXml(xml, "ring.xml"));
  double ring_seconds = 0, adasum_seconds = 0, sum_seconds = 0, worst_err = 0;
  // Adasum inputs: 8 tensors per rank (layers of different sizes), Gaussian.
  auto tensor = [](int rank, int k) {
    Prng rng(99 + static_cast<uint64_t>(rank) * 17 + static_cast<uint64_t>(k));
    std::vector<double> v(static_cast<size_t>(1000 + 777 * k));
    for (double& x : v) x = rng.Normal();
    return v;
  };
  std::vector<std::vector<std::vector<float>>> adasum_out(p);
  Status st = comm::thread::RunRanks(p, [&](Communicator& c) -> Status {
    std::vector<float> in(count), out(count);
    for (size_t i = 0; i < count; ++i) in[i] = InputValue(c.rank(), i);
    LOOM_RETURN_IF_ERROR(comm::Execute(back.program, c, in.data(), out.data(), count,
                                       DataType::kF32, ReduceOp::kSum));  // warm-up + check
    for (size_t i = 0; i < count; ++i) {
      float want = 0;
      for (int r = 0; r < p; ++r) want += InputValue(r, i);
      if (out[i] != want) return InternalError(StrCat("ring program: element ", i, " wrong"));
    }
    LOOM_RETURN_IF_ERROR(c.Barrier());
    Stopwatch sw;
    LOOM_RETURN_IF_ERROR(comm::Execute(back.program, c, in.data(), out.data(), count,
                                       DataType::kF32, ReduceOp::kSum, {.validate = false}));
    double t = sw.ElapsedSeconds();
    LOOM_RETURN_IF_ERROR(c.AllReduce(&t, &t, 1, DataType::kF64, ReduceOp::kMax));
    if (c.rank() == 0) ring_seconds = t;
    // Adasum vs sum on the same VHDD schedule.
    LOOM_ASSIGN_OR_RETURN(auto red, adasum::AdasumReducer::Create(c));
    std::vector<std::vector<float>> ts;
    for (int k = 0; k < 8; ++k) {
      auto v = tensor(c.rank(), k);
      ts.emplace_back(v.begin(), v.end());
    }
    std::vector<adasum::TensorView> views;
    for (auto& v : ts) views.push_back({v.data(), v.size()});
    auto copy = ts;
    std::vector<adasum::TensorView> copy_views;
    for (auto& v : copy) copy_views.push_back({v.data(), v.size()});
    // One untimed call of each first: the reducer's sub-communicators set up their shared
    // memory on first use, which a single timed call would charge to Adasum alone.
    auto warm_sum = ts, warm_ada = ts;
    std::vector<adasum::TensorView> warm_sum_views, warm_ada_views;
    for (auto& v : warm_sum) warm_sum_views.push_back({v.data(), v.size()});
    for (auto& v : warm_ada) warm_ada_views.push_back({v.data(), v.size()});
    LOOM_RETURN_IF_ERROR(red->SumAllreduce(warm_sum_views, DataType::kF32));
    LOOM_RETURN_IF_ERROR(red->Allreduce(warm_ada_views, DataType::kF32));
    LOOM_RETURN_IF_ERROR(c.Barrier());
    sw.Restart();
    LOOM_RETURN_IF_ERROR(red->SumAllreduce(copy_views, DataType::kF32));
    double ts_sum = sw.ElapsedSeconds();
    LOOM_RETURN_IF_ERROR(c.Barrier());
    sw.Restart();
    LOOM_RETURN_IF_ERROR(red->Allreduce(views, DataType::kF32));
    double ts_ada = sw.ElapsedSeconds();
    LOOM_RETURN_IF_ERROR(c.AllReduce(&ts_sum, &ts_sum, 1, DataType::kF64, ReduceOp::kMax));
    LOOM_RETURN_IF_ERROR(c.AllReduce(&ts_ada, &ts_ada, 1, DataType::kF64, ReduceOp::kMax));
    if (c.rank() == 0) {
      sum_seconds = ts_sum;
      adasum_seconds = ts_ada;
    }
    adasum_out[static_cast<size_t>(c.rank())] = std::move(ts);
    return OkStatus();
  });
  LOOM_RETURN_IF_ERROR(st);
  for (int k = 0; k < 8; ++k) {
    std::vector<std::vector<double>> inputs;
    for (int r = 0; r < p; ++r) {
      auto v = tensor(r, k);
      inputs.emplace_back(v.begin(), v.end());
      for (double& x : inputs.back()) x = static_cast<float>(x);
    }
    std::vector<double> want = adasum::TreeReference(inputs);
    double num = 0, den = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      double d = want[i] - adasum_out[0][static_cast<size_t>(k)][i];
      num += d * d;
      den += want[i] * want[i];
    }
    worst_err = std::max(worst_err, std::sqrt(num / den));
    for (int r = 1; r < p; ++r)
      if (adasum_out[static_cast<size_t>(r)][static_cast<size_t>(k)] != adasum_out[0][static_cast<size_t>(k)])
        return InternalError("adasum: ranks disagree");
  }
  if (worst_err / 100 >= 1.1920929e-7)
    return InternalError(StrCat("adasum: relative error ", worst_err, " fails Horovod's criterion"));
  double busbw = static_cast<double>(count * 4) / ring_seconds / 1e9 * 2.0 * (p - 1) / p;
  char line[256];
  std::snprintf(line, sizeof(line), "8 thread ranks: ring IR allreduce 8 MiB busbw %.2f GB/s; "
                "Adasum 8 tensors rel.err %.1e, %.2fx the sum on its schedule; verified",
                busbw, worst_err, adasum_seconds / sum_seconds);
  if (!ctx.globals.json) std::cout << "  " << line << "\n";
  DemoResult r;
  r.headline = line;
  r.verified = true;
  r.metrics = {{"ring_busbw_GBps", busbw}, {"ring_us", ring_seconds * 1e6},
               {"adasum_rel_error", worst_err}, {"adasum_over_sum", adasum_seconds / sum_seconds}};
#ifdef LOOM_HAVE_NCCL
  // Where GPUs are visible: a verified 64 MiB allreduce through NCCL on every GPU (one thread
  // each), against NCCL called directly. Machines without one skip this quietly.
  if (comm::nccl::DeviceCount() > 0) {
    comm::nccl::BenchOptions o;
    o.min_bytes = o.max_bytes = uint64_t{64} << 20;
    o.rounds = 3;
    o.collectives = {"allreduce"};
    comm::nccl::BenchRow got;
    LOOM_RETURN_IF_ERROR(comm::nccl::RunBench(
        o, [](const comm::nccl::BenchSetup&) {},
        [&](const comm::nccl::BenchRow& row) { got = row; }));
    std::snprintf(line, sizeof(line),
                  "NCCL on %d GPU(s): allreduce 64 MiB busbw %.1f GB/s (algbw %.1f), %.2fx NCCL "
                  "called directly; verified",
                  got.ranks, got.busbw_gbs, got.algbw_gbs, got.nccl_us / got.loom_us);
    if (!ctx.globals.json) std::cout << "  " << line << "\n";
    r.metrics["nccl_ranks"] = got.ranks;
    r.metrics["nccl_allreduce_busbw_GBps"] = got.busbw_gbs;
    r.metrics["nccl_over_direct"] = got.nccl_us / got.loom_us;
  }
#endif
  return r;
}

}  // namespace

LOOM_REGISTER_COMMANDS(comm, "Collectives, MSCCL programs and Adasum", [](CLI::App& app, Context& ctx) {
  app.require_subcommand(1);
  auto va = std::make_shared<ValidateArgs>();
  CLI::App* v = app.add_subcommand("validate", "Check an MSCCL XML program (names gpu/tb/step)");
  v->add_option("program", va->file, "program.xml")->required();
  v->add_option("--dialect", va->dialect, "Also apply a runtime's load rules: msccl or executor");
  v->add_option("--credits", va->credits, "Messages a connection buffers (deadlock check)");
  ctx.SetVerb(v, [&ctx, va] { return Validate(ctx, *va); });

  auto ra = std::make_shared<RunArgs>();
  CLI::App* r = app.add_subcommand("run", "Execute and verify a program on thread ranks");
  r->add_option("program", ra->file, "program.xml")->required();
  r->add_option("--ranks", ra->ranks, "Thread ranks (default: the program's ngpus)");
  r->add_option("--bytes", ra->bytes, "Per-rank data size, e.g. 1MiB");
  r->add_option("--dtype", ra->dtype, "f32 f64 f16 bf16 i32 i64");
  r->add_option("--op", ra->op, "sum prod min max avg");
  r->add_option("--slice", ra->slice, "Slice size of the pipelining, e.g. 2MiB");
  r->add_option("--iters", ra->iters, "Timed repetitions (median reported)");
  r->add_option("--schedules", ra->schedules,
                "Also run under this many randomized schedules; each must give the same output");
  ctx.SetVerb(r, [&ctx, ra] { return RunProgram(ctx, *ra); });

  auto ca = std::make_shared<ConvertArgs>();
  CLI::App* c = app.add_subcommand("convert", "Rewrite a program in another dialect");
  c->add_option("in", ca->in, "input.xml")->required();
  c->add_option("-o,--out", ca->out, "output.xml")->required();
  c->add_option("--to", ca->to, "msccl or executor");
  ctx.SetVerb(c, [&ctx, ca] { return Convert(ctx, *ca); });

  auto ga = std::make_shared<GenerateArgs>();
  CLI::App* g = app.add_subcommand("generate", "Write a built-in algorithm as an MSCCL program");
  g->add_option("kind", ga->kind, "ring-allreduce or ring-allgather")->required();
  g->add_option("-o,--out", ga->out, "output.xml")->required();
  g->add_option("--ranks", ga->ranks, "Ranks");
  g->add_option("--channels", ga->channels, "Independent rings");
  g->add_option("--dialect", ga->dialect, "msccl or executor");
  ctx.SetVerb(g, [&ctx, ga] { return Generate(ctx, *ga); });

  RegisterCommBench(app, ctx);
  RegisterCommTune(app, ctx);
  RegisterCommModel(app, ctx);
});

LOOM_REGISTER_DEMO_STAGE(comm, 20, CommDemo);

}  // namespace loom::cli
