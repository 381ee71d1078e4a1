// Top-level schedule search: repetend (cyclic scheduling from λ*), unroll + ASAP tightening,
// makespan branch-and-bound, and the independent validator on every result. Objectives:
// throughput (minimal steady-state period, then makespan), makespan for M micro-batches, and
// inference latency (minimal micro-batch span first). ParetoSweep trades memory for time.
// Thread-safety: Search may be called concurrently (it uses the given or default pool).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/base/thread_pool.h"
#include "loom/tessel/model.h"
#include "loom/tessel/repetend.h"
#include "loom/tessel/schedule.h"

namespace loom::tessel {

enum class Objective { kThroughput, kMakespan, kLatency };
StatusOr<Objective> ParseObjective(const std::string& name);  // throughput|makespan|latency

struct SearchOptions {
  Objective objective = Objective::kThroughput;
  int num_micro = 128;
  int64_t repetend_nodes = 200000;
  int64_t bnb_nodes = 2000000;  // 0 disables the branch-and-bound
  int split_depth = 2;
  ThreadPool* pool = nullptr;
};

struct SearchResult {
  Schedule schedule;
  ScheduleMetrics metrics;
  Repetend repetend;
  double makespan = 0;
  double makespan_bound = 0;  // no schedule of M micro-batches is shorter
  double gap = 0;             // (makespan − bound) / bound
  bool makespan_proven = false;
  double period = 0;
  double period_bound = 0;
  int64_t nodes = 0;          // repetend + branch-and-bound nodes
  double seconds = 0;
};

StatusOr<SearchResult> Search(const Placement& p, const SearchOptions& options);

struct ParetoPoint {
  double cap = 0;
  double period = 0;
  double makespan = 0;
  double peak = 0;  // max over devices
};
// Runs Search with the cap set to each value (same on every device); returns the points that
// no other point beats in both memory and makespan, sorted by cap. Infeasible caps are skipped.
StatusOr<std::vector<ParetoPoint>> ParetoSweep(const Placement& p, const SearchOptions& options,
                                               const std::vector<double>& caps);

}  // namespace loom::tessel
