// `loom taccl synth | sim | bound` and the taccl stage of `loom demo`.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli.h"
#include "loom/base/file_io.h"
#include "loom/base/progress.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/taccl/bounds.h"
#include "loom/comm/communicator.h"
#include "loom/comm/interpreter.h"
#include "loom/comm/thread/thread_transport.h"
#include "loom/taccl/cache.h"
#include "loom/taccl/comm_bridge.h"
#include "loom/taccl/program.h"
#include "loom/taccl/reference_exec.h"
#include "loom/taccl/simulator.h"
#include "loom/taccl/synthesizer.h"
#include "loom/taccl/taccl_files.h"

namespace loom::cli {
namespace {

using namespace loom::taccl;  // NOLINT: one command file, many taccl names

struct TopoArgs {
  std::string topo = "ndv2";
  int nodes = 0;  // 0: the sketch's nnodes, or 1
  std::string sketch;
  std::string coll = "allgather";
  std::string size = "1MB";
  int chunkup = 0;
  int root = 0;
  std::string ports = "shared";
};

struct SynthArgs {
  TopoArgs t;
  std::string out;
  std::string dialect = "executor";
  std::string cache;
  bool no_milp = false;
  int max_nodes = 400;
  double time_limit = 60;
  double order_milp = 0.5;
  int order_milp_cap = 2000;
  bool verify = true;
};

void AddTopoOptions(CLI::App* app, TopoArgs* a, bool with_coll) {
  app->add_option("--topo", a->topo, "ndv2, dgx2, a TACCL profile JSON or a loom topology JSON");
  app->add_option("--nodes", a->nodes, "Number of nodes (default: the sketch's nnodes, else 1)");
  app->add_option("--sketch", a->sketch, "TACCL communication sketch JSON");
  if (with_coll) {
    app->add_option("--coll", a->coll, "allgather, reduce_scatter, allreduce, alltoall, broadcast");
    app->add_option("--chunkup", a->chunkup, "Chunks per rank buffer (default: the sketch's)");
    app->add_option("--root", a->root, "Broadcast root");
  }
  app->add_option("--size", a->size, "Buffer size (AG output, RS input, AR / A2A / Bcast buffer)");
  app->add_option("--ports", a->ports,
                  "Simulator port model: shared (max-min fair, default) or exclusive (TACCL's: one send per port)");
}

struct Resolved {
  NodeProfile profile;
  Sketch sketch;
  Topology topo;
  uint64_t bytes = 0;
  SimOptions sim;
};

StatusOr<Resolved> Resolve(const TopoArgs& a) {
  Resolved r;
  LOOM_ASSIGN_OR_RETURN(r.profile, LoadProfile(a.topo));
  if (a.nodes < 0 || a.nodes > 1024) return InvalidArgumentError("--nodes must be 1..1024");
  if (!a.sketch.empty()) {
    LOOM_ASSIGN_OR_RETURN(r.sketch, ReadTacclSketch(a.sketch));
    if (a.nodes > 0 && a.nodes != r.sketch.nnodes)
      return InvalidArgumentError(StrCat("--nodes ", a.nodes, " but ", a.sketch, " has nnodes ", r.sketch.nnodes));
  } else {
    r.sketch = DefaultSketch(r.profile, a.nodes > 0 ? a.nodes : 1);
  }
  LOOM_ASSIGN_OR_RETURN(r.topo, BuildTopology(r.profile, r.sketch));
  LOOM_ASSIGN_OR_RETURN(r.bytes, ParseByteSize(a.size, "--size"));
  if (r.bytes == 0) return InvalidArgumentError("--size must be > 0");
  if (a.ports == "exclusive") {
    r.sim.ports = PortModel::kExclusive;
  } else if (a.ports != "shared") {
    return InvalidArgumentError(StrCat("--ports '", a.ports, "' is not shared or exclusive"));
  }
  return r;
}

std::string Fixed(double x, int digits = 3) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, x);
  return buf;
}

Status RunSynth(Context& ctx, const SynthArgs& a) {
  LOOM_ASSIGN_OR_RETURN(Resolved r, Resolve(a.t));
  SynthOptions o;
  LOOM_ASSIGN_OR_RETURN(o.coll, ParseCollective(a.t.coll));
  LOOM_ASSIGN_OR_RETURN(Dialect dialect, ParseDialect(a.dialect));
  o.bytes = r.bytes;
  o.sim = r.sim;
  o.chunkup = a.t.chunkup;
  o.root = a.t.root;
  o.use_milp = !a.no_milp;
  o.max_nodes = a.max_nodes;
  o.time_limit_s = a.time_limit;
  o.order_milp_seconds = a.no_milp ? 0 : a.order_milp;
  o.order_milp_max_binaries = a.order_milp_cap;
  std::string key;
  if (!a.cache.empty()) {
    Stopwatch sw;
    key = CacheKey(r.topo, r.sketch, o, a.dialect);
    LOOM_ASSIGN_OR_RETURN(auto hit, CacheLookup(a.cache, key));
    if (hit) {
      if (!a.out.empty()) LOOM_RETURN_IF_ERROR(WriteFileAtomically(a.out, *hit));
      double ms = sw.ElapsedMillis();
      ctx.Emit({{"cache", "hit"}, {"key", key}, {"ms", ms}, {"output", a.out}},
               StrCat("cache hit ", key, " in ", Fixed(ms, 2), " ms", a.out.empty() ? "" : " -> " + a.out));
      return OkStatus();
    }
  }
  Progress progress("taccl synth", 0, "candidates");  // total unknown: see Synthesize
  LOOM_ASSIGN_OR_RETURN(SynthResult res, Synthesize(r.topo, r.sketch, o, &progress));
  progress.Finish();
  bool verified = false;
  if (a.verify && r.topo.num_ranks() <= 64) {
    Status ok = ExecuteAndCheck(res.program, 2, 2);
    if (!ok.ok()) return InternalError(StrCat("emitted program failed the reference interpreter: ", ok.ToString()));
    verified = true;
  }
  // Through comm: its validator (dialect rules, deadlock check) and its writer.
  LOOM_ASSIGN_OR_RETURN(std::string xml, EmitXml(res.program, dialect));
  if (!a.out.empty()) LOOM_RETURN_IF_ERROR(WriteFileAtomically(a.out, xml));
  if (!key.empty()) LOOM_RETURN_IF_ERROR(CacheStore(a.cache, key, xml));
  auto ring = SimulateNcclRing(r.profile, r.topo.num_nodes, o.coll, o.bytes, o.sim);
  const double pure_gbs = res.bound.pure_bandwidth_us > 0 ? o.bytes / res.bound.pure_bandwidth_us / 1e3 : 0;
  Json rec = {{"collective", CollectiveName(o.coll)},
              {"topology", r.topo.name},
              {"ranks", r.topo.num_ranks()},
              {"bytes", o.bytes},
              {"method", res.method},
              {"synthesis_seconds", res.seconds},
              {"sim_us", res.sim.time_us},
              {"algbw_gbs", res.sim.algbw_gbs},
              {"busbw_gbs", res.sim.busbw_gbs},
              {"bound_algbw_gbs", res.bound.algbw_gbs},
              {"bound_cut", res.bound.cut},
              {"pure_bandwidth_bound_algbw_gbs", pure_gbs},
              {"ratio_to_bound", res.bound.time_us / res.sim.time_us},
              {"gap", res.gap},
              {"milp_models", res.routing.milp_models},
              {"milp_binaries", res.routing.milp_binaries},
              {"milp_optimal", res.routing.milp_optimal},
              {"order_milp_on", res.order_milp_on},
              {"order_milp_skipped", res.order_milp.skipped_why},
              {"order_milp_binaries", res.order_milp.binaries},
              {"order_milp_greedy_us", res.order_milp.warm_us},
              {"order_milp_us", res.order_milp.makespan_us},
              {"order_milp_bound_us", res.order_milp.bound_us},
              {"order_milp_gap", res.order_milp.gap()},
              {"verified_reference_exec", verified},
              {"output", a.out}};
  std::string human = StrCat("taccl synth: ", CollectiveName(o.coll), " on ", r.topo.name, " (", r.topo.num_ranks(),
                             " GPUs), ", FormatBytes(o.bytes), "\n  method ", res.method, ", synthesis ",
                             Fixed(res.seconds), " s (", res.routing.milp_models, " CBC models, ",
                             res.routing.milp_binaries, " binaries)\n  simulated ", Fixed(res.sim.time_us, 1),
                             " us, algbw ", Fixed(res.sim.algbw_gbs, 2), " GB/s, busbw ", Fixed(res.sim.busbw_gbs, 2),
                             " GB/s\n  cut bound ", Fixed(res.bound.algbw_gbs, 2), " GB/s (", res.bound.cut,
                             "), ratio ", Fixed(res.bound.time_us / res.sim.time_us), ", gap ",
                             Fixed(100 * res.gap, 1), " %\n  pure-bandwidth bound (no alpha) ",
                             Fixed(pure_gbs, 2), " GB/s, ratio ",
                             Fixed(res.bound.pure_bandwidth_us / res.sim.time_us));
  if (!res.order_milp_on.empty())
    human += res.order_milp.solved
                 ? StrCat("\n  schedule MILP on ", res.order_milp_on, ": ", res.order_milp.binaries, " binaries, greedy ",
                          Fixed(res.order_milp.warm_us, 2), " us, MILP ", Fixed(res.order_milp.makespan_us, 2),
                          " us, bound ", Fixed(res.order_milp.bound_us, 2), " us (gap ",
                          Fixed(100 * res.order_milp.gap(), 1), " %)")
                 : StrCat("\n  schedule MILP on ", res.order_milp_on, " skipped: ", res.order_milp.skipped_why);
  if (ring.ok()) {
    rec["nccl_ring_algbw_gbs"] = ring->algbw_gbs;
    rec["speedup_vs_ring"] = ring->time_us / res.sim.time_us;
    human += StrCat("\n  NCCL ring (same simulator) ", Fixed(ring->algbw_gbs, 2), " GB/s -> ",
                    Fixed(ring->time_us / res.sim.time_us, 2), "x");
  }
  if (auto tree = SimulateNcclTree(r.profile, r.topo.num_nodes, o.coll, o.bytes, o.sim); tree.ok()) {
    rec["nccl_tree_algbw_gbs"] = tree->algbw_gbs;
    rec["speedup_vs_tree"] = tree->time_us / res.sim.time_us;
    human += StrCat("\n  NCCL tree (same simulator) ", Fixed(tree->algbw_gbs, 2), " GB/s -> ",
                    Fixed(tree->time_us / res.sim.time_us, 2), "x");
  }
  for (const auto& c : res.candidates)
    human += StrCat("\n  candidate ", c.name, ": ", c.error.empty() ? Fixed(c.sim_us, 1) + " us" : c.error);
  if (verified) human += "\n  reference interpreter: every destination element checked; comm validator: ok";
  if (!a.out.empty()) human += "\n  wrote " + a.out;
  ctx.Emit(rec, human);
  return OkStatus();
}

Status RunSim(Context& ctx, const std::string& file, const TopoArgs& a) {
  LOOM_ASSIGN_OR_RETURN(Resolved r, Resolve(a));
  LOOM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(file));
  LOOM_ASSIGN_OR_RETURN(Program p, ParseProgramXml(text, file));
  LOOM_ASSIGN_OR_RETURN(SimResult s, Simulate(p, r.topo, r.bytes, r.sim));
  Bound b = CutBound(r.topo, p.coll, r.bytes, p.root);
  Json rec = {{"file", file}, {"collective", CollectiveName(p.coll)}, {"bytes", r.bytes},
              {"sim_us", s.time_us}, {"algbw_gbs", s.algbw_gbs}, {"busbw_gbs", s.busbw_gbs},
              {"iterations", s.iterations}, {"bound_algbw_gbs", b.algbw_gbs},
              {"ratio_to_bound", b.time_us / s.time_us}};
  ctx.Emit(rec, StrCat(file, ": ", CollectiveName(p.coll), " ", FormatBytes(r.bytes), " on ", r.topo.name, ": ",
                       Fixed(s.time_us, 1), " us, algbw ", Fixed(s.algbw_gbs, 2), " GB/s, busbw ",
                       Fixed(s.busbw_gbs, 2), " GB/s (", s.iterations, " loop iterations); cut bound ",
                       Fixed(b.algbw_gbs, 2), " GB/s, ratio ", Fixed(b.time_us / s.time_us)));
  return OkStatus();
}

Status RunBound(Context& ctx, const TopoArgs& a) {
  LOOM_ASSIGN_OR_RETURN(Resolved r, Resolve(a));
  LOOM_ASSIGN_OR_RETURN(Collective c, ParseCollective(a.coll));
  Bound b = CutBound(r.topo, c, r.bytes, a.root);
  ctx.Emit({{"collective", CollectiveName(c)}, {"bytes", r.bytes}, {"time_us", b.time_us},
            {"bandwidth_us", b.bandwidth_us}, {"pure_bandwidth_us", b.pure_bandwidth_us},
            {"latency_us", b.latency_us}, {"algbw_gbs", b.algbw_gbs},
            {"cut", b.cut}},
           StrCat("cut bound for ", CollectiveName(c), " ", FormatBytes(r.bytes), " on ", r.topo.name, ": ",
                  Fixed(b.time_us, 1), " us (bandwidth ", Fixed(b.bandwidth_us, 1), " incl. one alpha, ",
                  Fixed(b.pure_bandwidth_us, 1), " without; latency ",
                  Fixed(b.latency_us, 1), "), algbw <= ", Fixed(b.algbw_gbs, 2), " GB/s; binding cut: ", b.cut));
  return OkStatus();
}

// TACCL's sk1-ndv2-n2.json (GPU 0 of each node relays to GPU 1 of the other), embedded.
constexpr const char* kDemoSketch = R"({"nnodes": 2, "intranode_sketch": {"strategy": "none"},
  "internode_sketch": {"strategy": "relay", "internode_conn": {"0": [1]}},
  "symmetry_offsets": [[8, 16]], "hyperparameters": {"input_chunkup": 1}})";

StatusOr<DemoResult> TacclDemo(Context& ctx) {
  LOOM_ASSIGN_OR_RETURN(Sketch sk, ParseTacclSketch(kDemoSketch, "sk1-ndv2-n2.json (embedded)"));
  NodeProfile prof = Ndv2Profile();
  LOOM_ASSIGN_OR_RETURN(Topology topo, BuildTopology(prof, sk));
  SynthOptions o;
  o.bytes = 1ull << 30;
  LOOM_ASSIGN_OR_RETURN(SynthResult res, Synthesize(topo, sk, o));
  LOOM_ASSIGN_OR_RETURN(SimResult ring, SimulateNcclRing(prof, 2, Collective::kAllGather, o.bytes));
  // The emitted XML, read back by comm and executed by comm's interpreter on 16 thread ranks,
  // several slice iterations, every output element compared.
  LOOM_ASSIGN_OR_RETURN(std::string xml, EmitXml(res.program, Dialect::kExecutor));
  LOOM_ASSIGN_OR_RETURN(auto parsed, comm::program::ParseMscclXml(xml, "demo.xml"));
  const int N = topo.num_ranks();
  const size_t count = 4096;  // int32 per rank = one 16 KiB chunk; 256-byte slices: 64 iterations
  Status exec = comm::thread::RunRanks(N, [&](comm::Communicator& c) -> Status {
    std::vector<int32_t> in(count), out(count * N, -1);
    for (size_t x = 0; x < count; ++x) in[x] = static_cast<int32_t>(c.rank() * 100000 + x);
    comm::ExecuteOptions eo;
    eo.slice_bytes = 256;
    LOOM_RETURN_IF_ERROR(comm::Execute(parsed.program, c, in.data(), out.data(), count, comm::DataType::kI32,
                                       comm::ReduceOp::kSum, eo));
    for (size_t x = 0; x < out.size(); ++x)
      if (out[x] != static_cast<int32_t>((x / count) * 100000 + x % count))
        return InternalError(StrCat("rank ", c.rank(), " output element ", x, " is wrong"));
    return OkStatus();
  });
  if (!exec.ok()) return InternalError(StrCat("emitted XML failed execution: ", exec.ToString()));
  double to_bound = res.bound.time_us / res.sim.time_us, to_ring = ring.time_us / res.sim.time_us;
  std::string line = StrCat("2xNDv2 allgather 1GiB: synthesized in ", Fixed(res.seconds, 2), " s; simulated ",
                            Fixed(res.sim.algbw_gbs, 2), " GB/s = ", Fixed(to_bound, 3), " of cut bound, ",
                            Fixed(to_ring, 2), "x NCCL ring; XML executed by comm on 16 thread ranks, every element checked");
  if (!ctx.globals.json) std::cout << "  " << line << "\n";
  DemoResult d;
  d.headline = line;
  d.verified = true;
  d.metrics = {{"synthesis_seconds", res.seconds}, {"algbw_gbs", res.sim.algbw_gbs},
               {"ratio_to_bound", to_bound}, {"speedup_vs_ring", to_ring}, {"method", res.method}};
  return d;
}

}  // namespace

LOOM_REGISTER_COMMANDS(taccl, "Synthesize collective algorithms from a topology and a sketch (TACCL)",
                       [](CLI::App& app, Context& ctx) {
                         auto sa = std::make_shared<SynthArgs>();
                         CLI::App* synth = app.add_subcommand("synth", "Synthesize an algorithm and emit MSCCL XML");
                         AddTopoOptions(synth, &sa->t, true);
                         synth->add_option("-o,--output", sa->out, "Write the MSCCL XML here");
                         synth->add_option("--dialect", sa->dialect, "executor (msccl-executor) or original (msccl)");
                         synth->add_option("--cache", sa->cache, "Cache directory (key: topology, sketch, collective, size bucket)");
                         synth->add_flag("--no-milp", sa->no_milp, "Greedy routing only (no CBC)");
                         synth->add_option("--max-nodes", sa->max_nodes, "CBC branch-and-bound nodes per model");
                         synth->add_option("--time-limit", sa->time_limit, "CBC seconds per model (best found is kept)");
                         synth->add_option("--order-milp", sa->order_milp,
                                           "CBC seconds for the schedule (ordering) MILP on the winner; 0: off");
                         synth->add_option("--order-milp-cap", sa->order_milp_cap,
                                           "Largest schedule MILP (order binaries); larger winners are not re-ordered");
                         ctx.SetVerb(synth, [&ctx, sa] { return RunSynth(ctx, *sa); });

                         auto file = std::make_shared<std::string>();
                         auto simargs = std::make_shared<TopoArgs>();
                         CLI::App* sim = app.add_subcommand("sim", "Simulate any MSCCL XML on a topology");
                         sim->add_option("xml", *file, "MSCCL XML file")->required();
                         AddTopoOptions(sim, simargs.get(), false);
                         ctx.SetVerb(sim, [&ctx, file, simargs] { return RunSim(ctx, *file, *simargs); });

                         auto bargs = std::make_shared<TopoArgs>();
                         CLI::App* bound = app.add_subcommand("bound", "Cut lower bound for a collective");
                         AddTopoOptions(bound, bargs.get(), true);
                         ctx.SetVerb(bound, [&ctx, bargs] { return RunBound(ctx, *bargs); });
                       });

LOOM_REGISTER_DEMO_STAGE(taccl, 30, TacclDemo);

}  // namespace loom::cli
