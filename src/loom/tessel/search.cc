#include "loom/tessel/search.h"

#include <algorithm>

#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/tessel/analysis.h"
#include "loom/tessel/list_schedule.h"
#include "loom/tessel/makespan_bnb.h"
#include "loom/tessel/simulator.h"
#include "loom/tessel/validator.h"

namespace loom::tessel {

StatusOr<Objective> ParseObjective(const std::string& name) {
  if (name == "throughput") return Objective::kThroughput;
  if (name == "makespan") return Objective::kMakespan;
  if (name == "latency") return Objective::kLatency;
  return InvalidArgumentError(StrCat("unknown objective '", name,
                                     "' (throughput, makespan, latency)"));
}

StatusOr<SearchResult> Search(const Placement& p, const SearchOptions& o) {
  Stopwatch sw;
  if (o.num_micro < 1 || o.num_micro > 100000)
    return InvalidArgumentError(StrCat("micro-batches ", o.num_micro, " must be in [1, 100000]"));
  LOOM_ASSIGN_OR_RETURN(Analysis a, Analyze(p));
  RepetendOptions ro;
  ro.node_budget = o.repetend_nodes;
  ro.num_micro = o.num_micro;
  ro.minimize_latency = o.objective == Objective::kLatency;
  LOOM_ASSIGN_OR_RETURN(Repetend rep, SearchRepetend(p, a, ro));
  SearchResult r;
  r.repetend = rep;
  r.period = rep.period;
  r.period_bound = rep.period_bound;
  r.nodes = rep.nodes;
  Schedule unrolled = UnrollRepetend(p, rep, o.num_micro);
  LOOM_RETURN_IF_ERROR(ValidateSchedule(p, unrolled).WithContext("unrolled repetend"));
  LOOM_ASSIGN_OR_RETURN(Schedule tight, Tighten(p, a, unrolled));
  LOOM_RETURN_IF_ERROR(ValidateSchedule(p, tight).WithContext("tightened repetend"));
  r.schedule = std::move(tight);
  r.makespan_bound = a.MakespanBound(p, o.num_micro);
  r.makespan = ComputeMetrics(p, r.schedule).makespan;
  if (o.objective != Objective::kLatency) {
    // Second incumbent: the greedy list schedule, which packs warm-up and cool-down where the
    // repetend unroll leaves gaps (ZB-V under 1F1B's memory). A stall is not an error here.
    StatusOr<Schedule> greedy = ListSchedule(p, a, o.num_micro);
    if (greedy.ok()) {
      LOOM_RETURN_IF_ERROR(ValidateSchedule(p, *greedy).WithContext("list schedule"));
      double gm = ComputeMetrics(p, *greedy).makespan;
      if (gm < r.makespan - kTimeEps) {
        r.schedule = *std::move(greedy);
        r.makespan = gm;
      }
    }
  }
  // Latency keeps the steady-state schedule (the B&B would trade per-micro-batch latency for
  // makespan); throughput and makespan both minimise the makespan of the M micro-batches.
  if (o.bnb_nodes > 0 && o.objective != Objective::kLatency) {
    BnbOptions bo;
    bo.node_budget = o.bnb_nodes;
    bo.split_depth = o.split_depth;
    bo.pool = o.pool;
    LOOM_ASSIGN_OR_RETURN(BnbResult b, SearchMakespan(p, a, o.num_micro, r.schedule, bo));
    r.nodes += b.nodes;
    if (b.improved) {
      LOOM_RETURN_IF_ERROR(ValidateSchedule(p, b.best).WithContext("branch-and-bound schedule"));
      r.schedule = std::move(b.best);
    }
    r.makespan = b.makespan;
    r.makespan_bound = std::max(r.makespan_bound, b.lower_bound);
    r.makespan_proven = b.proven;
  }
  if (r.makespan <= r.makespan_bound + 1e-9) r.makespan_proven = true;
  r.metrics = ComputeMetrics(p, r.schedule);
  r.makespan = r.metrics.makespan;
  r.gap = r.makespan_bound > 0 ? (r.makespan - r.makespan_bound) / r.makespan_bound : 0;
  r.seconds = sw.ElapsedSeconds();
  return r;
}

StatusOr<std::vector<ParetoPoint>> ParetoSweep(const Placement& p, const SearchOptions& o,
                                               const std::vector<double>& caps) {
  std::vector<ParetoPoint> pts;
  for (double cap : caps) {
    Placement q = p;
    q.SetCap(cap);
    StatusOr<SearchResult> r = Search(q, o);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kInfeasible) continue;
      return r.status();
    }
    double peak = 0;
    for (double x : r->metrics.peak_memory) peak = std::max(peak, x);
    pts.push_back({cap, r->period, r->makespan, peak});
  }
  std::sort(pts.begin(), pts.end(),
            [](const ParetoPoint& x, const ParetoPoint& y) { return x.cap < y.cap; });
  std::vector<ParetoPoint> front;
  for (const ParetoPoint& x : pts) {
    bool dominated = false;
    for (const ParetoPoint& y : pts)
      if (y.peak <= x.peak && y.makespan <= x.makespan &&
          (y.peak < x.peak || y.makespan < x.makespan))
        dominated = true;
    bool duplicate = !front.empty() && front.back().peak == x.peak &&
                     front.back().makespan == x.makespan;  // keep the smallest cap
    if (!dominated && !duplicate) front.push_back(x);
  }
  return front;
}

}  // namespace loom::tessel
