// taccl's target table (issue 4): synthesis times, simulated algbw against the cut bound, against
// NCCL's ring and double binary tree in the same simulator, and against TACCL's published modelled algbw and solver
// times (TE-CCL's TACCL_NDv2_2_chassis tables, brief section 4; TACCL itself needs Gurobi, so
// its numbers are the anchor as published). Every row is verified first: the schedule oracle
// runs inside Synthesize, and programs up to 64 ranks are executed by the reference
// interpreter with every destination element checked.
//
//   taccl_bench [--candidates] [--only=SKETCH] [testdata_dir]
// --candidates lists every candidate's ratio; --only runs the rows of one sketch.
#include <cstdio>
#include <string>
#include <vector>

#include "loom/base/strings.h"
#include "loom/taccl/reference_exec.h"
#include "loom/taccl/synthesizer.h"
#include "loom/taccl/taccl_files.h"

namespace loom::taccl {
namespace {

struct Row {
  std::string sketch;  // file in testdata, or "relay-nN" (GPU 0 -> remote GPU 1, N NDv2 nodes)
  bool dgx2;
  Collective coll;
  uint64_t bytes;
  double taccl_algbw;    // published modelled algbw (GB/s), 0 = none
  double taccl_seconds;  // published solver time, 0 = none
};

StatusOr<Sketch> LoadSketch(const std::string& dir, const std::string& name) {
  if (name.rfind("relay-n", 0) == 0) {
    int n = std::stoi(name.substr(7));
    std::string text = StrCat("{\"nnodes\": ", n, ", \"intranode_sketch\": {\"strategy\": \"none\"}, ",
                              "\"internode_sketch\": {\"strategy\": \"relay\", \"internode_conn\": {\"0\": [1]}}, ",
                              "\"symmetry_offsets\": [[8, ", 8 * n, "]]}");
    return ParseTacclSketch(text, name);
  }
  return ReadTacclSketch(dir + "/" + name + ".json");
}

int Run(const std::string& dir, bool show_candidates, const std::string& only) {
  const uint64_t KB = 1024, MB = KB * KB, GB = MB * KB;
  std::vector<Row> rows = {
      {"sk1-ndv2-n2", false, Collective::kAllGather, KB, 0.098, 3.0},
      {"sk1-ndv2-n2", false, Collective::kAllGather, 64 * KB, 4.89, 3.7},
      {"sk1-ndv2-n2", false, Collective::kAllGather, MB, 16.1, 62.7},
      {"sk1-ndv2-n2", false, Collective::kAllGather, 64 * MB, 20.4, 8.3},
      {"sk1-ndv2-n2", false, Collective::kAllGather, GB, 18.6, 7.0},
      {"sk1-ndv2-n2", false, Collective::kReduceScatter, MB, 0, 0},
      {"sk1-ndv2-n2", false, Collective::kReduceScatter, GB, 0, 0},
      {"sk1-ndv2-n2", false, Collective::kAllReduce, GB, 0, 0},
      {"sk1-ndv2-n2", false, Collective::kAllToAll, KB, 0.027, 28},
      {"sk1-ndv2-n2", false, Collective::kAllToAll, 64 * KB, 1.27, 861},
      {"sk1-ndv2-n2", false, Collective::kAllToAll, MB, 2.79, 1214},
      {"sk1-ndv2-n2", false, Collective::kAllToAll, GB, 3.13, 1215},
      {"sk1-dgx2-n2", true, Collective::kAllGather, MB, 0, 0},
      {"sk1-dgx2-n2", true, Collective::kAllGather, GB, 0, 0},
      {"sk1-dgx2-n2", true, Collective::kReduceScatter, GB, 0, 0},
      {"sk1-dgx2-n2", true, Collective::kAllReduce, GB, 0, 0},
      {"sk2-dgx2-n2", true, Collective::kAllGather, GB, 0, 0},
      {"sk2-dgx2-n2", true, Collective::kReduceScatter, GB, 0, 0},
      {"relay-n10", false, Collective::kAllGather, MB, 0, 180},
      {"relay-n10", false, Collective::kAllGather, GB, 0, 180},
      {"relay-n16", false, Collective::kAllGather, MB, 0, 0},
      {"relay-n16", false, Collective::kAllGather, GB, 0, 0},
  };
  std::printf("| case | size | GPUs | method | synth s | TACCL solver s | algbw GB/s | TACCL modelled GB/s | "
              "/ cut bound | exclusive ports / cut bound | busiest resource | NCCL ring GB/s | x NCCL ring | "
              "NCCL tree GB/s | x NCCL tree | verified |\n"
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  int failures = 0;
  for (const Row& r : rows) {
    if (!only.empty() && r.sketch != only) continue;
    auto sk = LoadSketch(dir, r.sketch);
    if (!sk.ok()) {
      std::fprintf(stderr, "%s\n", sk.status().ToString().c_str());
      return 1;
    }
    NodeProfile prof = r.dgx2 ? Dgx2Profile() : Ndv2Profile();
    auto topo = BuildTopology(prof, *sk);
    if (!topo.ok()) return 1;
    SynthOptions o;
    o.coll = r.coll;
    o.bytes = r.bytes;
    auto res = Synthesize(*topo, *sk, o);
    // The winning program again under TACCL's exclusive-port model, and the busiest resource's
    // share of the run (time it is sending / makespan) in the shared-port model.
    std::string excl, busy;
    if (res.ok()) {
      SimOptions ex = o.sim;
      ex.ports = PortModel::kExclusive;
      auto e = Simulate(res->program, *topo, r.bytes, ex);
      if (e.ok()) excl = StrCat(static_cast<int>(1000 * res->bound.time_us / e->time_us + 0.5) / 1000.0);
      busy = StrCat(static_cast<int>(100 * res->sim.busiest_load_us / res->sim.time_us + 0.5), "% ", res->sim.busiest);
    }
    if (!res.ok()) {
      std::printf("| %s %s | %s | %d | FAILED: %s |\n", r.sketch.c_str(), CollectiveName(r.coll),
                  FormatBytes(r.bytes).c_str(), topo->num_ranks(), res.status().ToString().c_str());
      ++failures;
      continue;
    }
    std::string verified = "oracle";
    if (topo->num_ranks() <= 64) {
      Status ok = ExecuteAndCheck(res->program, 2, 2);
      if (!ok.ok()) {
        std::printf("| %s | VERIFY FAILED: %s |\n", r.sketch.c_str(), ok.ToString().c_str());
        ++failures;
        continue;
      }
      verified = "oracle+exec";
    }
    // NCCL baselines in the same simulator: ring (AG, RS, AR) and double binary tree (AR only,
    // as in NCCL); "-" where NCCL has no such algorithm.
    auto ring = SimulateNcclRing(prof, topo->num_nodes, r.coll, r.bytes);
    auto tree = SimulateNcclTree(prof, topo->num_nodes, r.coll, r.bytes);
    auto gbs = [](const StatusOr<SimResult>& b) { return b.ok() ? StrCat(static_cast<int>(100 * b->algbw_gbs + 0.5) / 100.0) : std::string("-"); };
    auto ratio = [&](const StatusOr<SimResult>& b) {
      return b.ok() ? StrCat(static_cast<int>(100 * b->time_us / res->sim.time_us + 0.5) / 100.0) : std::string("-");
    };
    std::string ring_ratio = ratio(ring);
    char line[640];
    std::snprintf(line, sizeof(line), "| %s %s | %s | %d | %s | %.2f | %s | %.3f | %s | %.3f | %s | %s | %s | %s | %s | %s | %s |\n",
                  r.sketch.c_str(), CollectiveName(r.coll), FormatBytes(r.bytes).c_str(), topo->num_ranks(),
                  res->method.c_str(), res->seconds,
                  r.taccl_seconds > 0 ? StrCat(r.taccl_seconds).c_str() : "-", res->sim.algbw_gbs,
                  r.taccl_algbw > 0 ? StrCat(r.taccl_algbw).c_str() : "-", res->bound.time_us / res->sim.time_us,
                  excl.c_str(), busy.c_str(), gbs(ring).c_str(), ring_ratio.c_str(), gbs(tree).c_str(), ratio(tree).c_str(), verified.c_str());
    std::fputs(line, stdout);
    if (show_candidates)
      for (const Candidate& c : res->candidates)
        std::printf("|   candidate %s | %s |\n", c.name.c_str(),
                    c.error.empty() ? StrCat("/ bound ", res->bound.time_us / c.sim_us, ", busiest load / bound ",
                                             c.busiest_load_us / res->bound.time_us).c_str()
                                    : c.error.substr(0, 80).c_str());
    std::fflush(stdout);
  }
  if (!only.empty()) return failures == 0 ? 0 : 1;
  // Robustness: all 11 shipped sketches, allgather 1 MiB.
  int solved = 0;
  for (const char* f : {"sk-dgx2-n1", "sk-ndv2-n1-cUp6", "sk1-dgx2-n1", "sk1-dgx2-n2", "sk1-ndv2-n1", "sk1-ndv2-n2",
                        "sk1-ndv2-n4", "sk2-dgx2-n2", "sk2-ndv2-n2", "sk2-ndv2-n4", "sk3-ndv2-n2"}) {
    auto sk = LoadSketch(dir, f);
    bool dgx2 = std::string(f).find("dgx2") != std::string::npos;
    if (!sk.ok()) continue;
    auto topo = BuildTopology(dgx2 ? Dgx2Profile() : Ndv2Profile(), *sk);
    if (!topo.ok()) continue;
    SynthOptions o;
    auto res = Synthesize(*topo, *sk, o);
    if (res.ok() && ExecuteAndCheck(res->program, 1, 1).ok()) ++solved;
  }
  std::printf("\nTACCL sketches solved and executed: %d / 11\n", solved);
  return failures == 0 && solved == 11 ? 0 : 1;
}

}  // namespace
}  // namespace loom::taccl

int main(int argc, char** argv) {
  std::string dir = LOOM_TACCL_TESTDATA, only;
  bool candidates = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--candidates") candidates = true;
    else if (a.rfind("--only=", 0) == 0) only = a.substr(7);
    else dir = a;
  }
  return loom::taccl::Run(dir, candidates, only);
}
