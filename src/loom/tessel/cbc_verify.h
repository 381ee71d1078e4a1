// Optional exact solver with CBC (`loom tessel search --verify cbc`): a time-indexed MILP of the
// makespan problem for M micro-batches on small integral instances. It certifies a searched
// schedule optimal, or returns a shorter schedule, or (at its limits) a proven lower bound.
//
// Model (shares no code with the search; every answer is re-checked by ValidateSchedule):
//   x[o][t] ∈ {0,1}: op o = (block, micro-batch) starts at integer step t, for t in
//     [head(block), H − tail(block)], H = the given upper bound (an incumbent's makespan);
//   Σ_t x[o][t] = 1;
//   dependencies, disaggregated (tight LP): for edge a→b with lag L = span(a) + latency,
//     Σ_{t'≤t} x[b][t'] ≤ Σ_{t'≤t−L} x[a][t'] for every t;
//   device exclusivity: for device d and step τ, Σ_o Σ_{t∈(τ−dur(o,d), τ]} x[o][t] ≤ 1;
//   memory (charged at starts): for device d and step τ, Σ_o mem(o,d)·Σ_{t'≤τ} x[o][t'] ≤ cap(d);
//   C ≥ Σ_t (t + span) x[o][t] for ops with no successor; minimise C.
// Symmetry (`mid_order`, on by default): instances of one block start in micro-batch order.
// This loses no makespan: relabel, per block, its instances by start order. Device use and
// memory do not change (same ops at the same times; deltas equal across micro-batches), and
// every edge a→b still holds, because if each b-start is >= its own a-end + lag, the k-th
// smallest b-start is >= the k-th smallest a-end + lag (all instances of a block last equally
// long). So the optimum with the rule is the unrestricted optimum. Off, the model has no
// symmetry rule at all (tests compare both against exhaustive enumeration).
// With an incumbent, the horizon is its makespan − 1: any solution is strictly shorter, and
// infeasibility proves the incumbent optimal.
// Thread-safety: each call builds its own CBC model; CBC runs single-threaded.
#pragma once

#include <cstdint>
#include <string>

#include "loom/base/status.h"
#include "loom/tessel/model.h"
#include "loom/tessel/schedule.h"

namespace loom::tessel {

struct CbcOptions {
  double seconds = 60;       // CBC wall-clock limit
  int max_nodes = 1000000;   // CBC branch-and-bound node limit
  int64_t max_vars = 200000; // refuse larger time-indexed models (InvalidArgument)
  bool mid_order = true;     // same-block instances in micro-batch order (lossless)
};

struct CbcResult {
  bool optimal = false;      // CBC finished: `makespan` is the optimum
  bool has_schedule = false; // `schedule` holds CBC's best, validated; else only a bound
  Schedule schedule;
  double makespan = 0;       // of `schedule` (or the upper bound given when CBC found none)
  double lower_bound = 0;    // no schedule is shorter (CBC's bound, rounded up to an integer)
  int64_t vars = 0;
  int64_t rows = 0;
  double seconds = 0;
  std::string ToString() const;
};

bool HaveCbc();

// Solves the makespan problem for `num_micro` micro-batches with every op finishing by
// `upper_bound`. `warm_start` (optional, may be null) must be a valid schedule within the bound;
// it is returned when CBC finds nothing shorter (and proven optimal when nothing shorter exists). Durations, latencies and the
// bound must be integers (InvalidArgument otherwise); Unavailable when built without CBC;
// Infeasible when no schedule meets the bound.
StatusOr<CbcResult> SolveWithCbc(const Placement& p, int num_micro, double upper_bound,
                                 const Schedule* warm_start, const CbcOptions& options);

}  // namespace loom::tessel
