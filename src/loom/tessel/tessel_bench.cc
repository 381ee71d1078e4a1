// The target table (docs/systems/tessel.md §5): search time and quality for each case,
// each schedule checked by the independent validator (and G1 against its closed form) before
// a time is printed. Tessel's own times are quoted from the system brief (a 2-core AVX2
// machine, Z3 4.8.12); this binary does not run Tessel. Then the ZB paper's hand-built ZB-H1/H2
// orders and ZB-V against the search under the same memory caps. Usage: tessel_bench [--quick]
#include <cstdio>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "loom/base/timer.h"
#include "loom/tessel/baselines.h"
#include "loom/tessel/placements.h"
#include "loom/tessel/search.h"
#include "loom/tessel/validator.h"

namespace {

using namespace loom::tessel;  // NOLINT: a benchmark driver

struct Case {
  std::string label;
  std::string placement;
  int devices;
  int micro;
  double cap;
  Objective objective;
  std::string tessel;  // quoted from the brief
};

// The ZB paper's hand-built ZB-H1/H2 orders and the ZB-V list schedule (baselines.h) against
// the search on the same B/W split placement under the same per-stage memory caps (1F1B's
// p − i for H1, 2(p − i) − 1 for H2, 2p chunk activations for ZB-V), F = B = W = 1.
int RunZeroBubble(bool quick) {
  std::printf("\n%-22s %8s %8s %8s %8s %9s %7s %9s\n", "zero-bubble (F=B=W=1)", "hand_mk",
              "hand_idl", "srch_mk", "srch_idl", "bound", "proven", "search_s");
  for (int p : {4, 8})
    for (int m : {2 * p, 32})
      for (const char* name : {"zbh1", "zbh2", "zbv"}) {
        PlacementOptions o;
        o.devices = p;
        o.f = o.b = o.w = 1;
        auto hand = MakeBaseline(name, o, m);
        if (!hand.ok() || !ValidateSchedule(hand->placement, hand->schedule).ok()) {
          std::fprintf(stderr, "%s p=%d m=%d: hand-built order failed\n", name, p, m);
          return 1;
        }
        Placement pl = hand->placement;  // zbv: 2p chunk activations per device already
        if (std::string(name) != "zbv") {
          pl.memory_cap.clear();
          for (int i = 0; i < p; ++i)
            pl.memory_cap.push_back(std::string(name) == "zbh1" ? p - i : 2 * (p - i) - 1);
        }
        ScheduleMetrics hm = ComputeMetrics(pl, hand->schedule);
        if (!ValidateSchedule(pl, hand->schedule).ok()) {
          std::fprintf(stderr, "%s p=%d m=%d: hand-built order exceeds its caps\n", name, p, m);
          return 1;
        }
        SearchOptions so;
        so.num_micro = m;
        so.objective = Objective::kMakespan;
        so.bnb_nodes = quick ? 20000 : 200000;
        loom::Stopwatch sw;
        auto r = Search(pl, so);
        double t = sw.ElapsedSeconds();
        if (!r.ok() || !ValidateSchedule(pl, r->schedule).ok()) {
          std::fprintf(stderr, "%s p=%d m=%d: search failed\n", name, p, m);
          return 1;
        }
        double hand_idle = 0, search_idle = 0;
        for (int i = 0; i < p; ++i) {
          hand_idle = std::max(hand_idle, hm.window_idle[static_cast<size_t>(i)]);
          search_idle = std::max(search_idle, r->metrics.window_idle[static_cast<size_t>(i)]);
        }
        std::printf("%-22s %8g %8g %8g %8g %9g %7s %9.4f\n",
                    (std::string(name) + " p=" + std::to_string(p) + " m=" + std::to_string(m)).c_str(),
                    hm.makespan, hand_idle, r->makespan, search_idle, r->makespan_bound,
                    r->makespan_proven ? "yes" : "no", t);
      }
  return 0;
}

int Run(bool quick) {
  std::vector<Case> cases = {
      {"G1 V-shape F=1 B=3", "vshape", 4, 128, kNoCap, Objective::kThroughput, "8.8-10.3 s"},
      {"G2 M-shape mem 6 (M=K=6)", "mshape", 4, 6, 6, Objective::kMakespan,
       "403 s -> 48 steps; fast 24.9 s -> 51"},
      {"G2 M-shape mem 6, M=128", "mshape", 4, 128, 6, Objective::kThroughput, "-"},
      {"G3 NN-shape mem 20 (M=8)", "nnshape", 4, 8, 20, Objective::kMakespan, "64.5 s (fast)"},
      {"K-shape mem 20 (M=8)", "kshape", 4, 8, 20, Objective::kMakespan, "2.3 s (fast)"},
  };
  for (int n : {8, 16, 32})
    for (const char* pl : {"vshape", "mshape", "nnshape"})
      cases.push_back({"G4 " + std::string(pl) + " N=" + std::to_string(n), pl, n, 128, kNoCap,
                       Objective::kThroughput,
                       n == 8 && std::string(pl) == "vshape" ? "killed > 400 s" : "-"});
  std::printf("%-28s %6s %9s %8s %7s %9s %9s %6s %9s  %s\n", "case", "period", "first_mk",
              "first_s", "bnb_mk", "bound", "gap%", "proven", "total_s", "Tessel (brief)");
  for (const Case& c : cases) {
    PlacementOptions o;
    o.devices = c.devices;
    o.cap = c.cap;
    auto p = MakePlacement(c.placement, o);
    if (!p.ok()) {
      std::fprintf(stderr, "%s: %s\n", c.label.c_str(), p.status().ToString().c_str());
      return 1;
    }
    SearchOptions so;
    so.num_micro = c.micro;
    so.objective = c.objective;
    // First: repetend + tightening only (the constructive schedule), then with the B&B.
    so.bnb_nodes = 0;
    double first_s = 1e30;
    double first_mk = 0;
    for (int rep = 0; rep < 3; ++rep) {
      loom::Stopwatch sw;
      auto got = Search(*p, so);
      first_s = std::min(first_s, sw.ElapsedSeconds());
      if (!got.ok() || !ValidateSchedule(*p, got->schedule).ok()) {
        std::fprintf(stderr, "%s: first schedule failed\n", c.label.c_str());
        return 1;
      }
      first_mk = got->makespan;
    }
    so.bnb_nodes = quick ? 20000 : 200000;
    // Best of three runs: the machine is shared.
    double best = 1e30;
    SearchResult r;
    for (int rep = 0; rep < (quick ? 1 : 3); ++rep) {
      loom::Stopwatch sw;
      auto got = Search(*p, so);
      double t = sw.ElapsedSeconds();
      if (!got.ok()) {
        std::fprintf(stderr, "%s: %s\n", c.label.c_str(), got.status().ToString().c_str());
        return 1;
      }
      if (t < best) best = t;
      r = *got;
    }
    if (!ValidateSchedule(*p, r.schedule).ok()) {
      std::fprintf(stderr, "%s: schedule failed validation\n", c.label.c_str());
      return 1;
    }
    if (c.placement == "vshape" && r.makespan != (c.micro + c.devices - 1) * 4.0) {
      std::fprintf(stderr, "%s: makespan %g != (M+N-1)(F+B)\n", c.label.c_str(), r.makespan);
      return 1;
    }
    std::printf("%-28s %6g %9g %8.4f %7g %9g %9.2f %6s %9.4f  %s\n", c.label.c_str(), r.period,
                first_mk, first_s, r.makespan, r.makespan_bound, 100 * r.gap,
                r.makespan_proven ? "yes" : "no", best, c.tessel.c_str());
  }
  return RunZeroBubble(quick);
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  return Run(quick);
}
