// Makespan branch-and-bound for M micro-batches (warm-up, steady state and cool-down at once).
// A node appends one (block, micro-batch) to the run orders of the block's devices and starts
// it as soon as possible (semi-active schedules contain an optimum; memory, charged at starts,
// depends only on each device's order, so it is checked exactly on append).
// Bounds: per device, free time + remaining work + the shortest path left after its last
// block; per block, earliest start of its next instance + tail; the static bound of Analysis.
// Dominance: instances of one block run in micro-batch order (Tessel's symmetry rule), and an
// op is not appended when another ready op on a subset of its devices would finish before it
// could start (left-shift; the active-schedule rule).
// Parallelism: the tree is split at a fixed depth into subtrees run on the thread pool, each
// with its own node budget and the same initial incumbent, so the result is identical for any
// thread count. Thread-safety: SearchMakespan may be called concurrently.
#pragma once

#include <cstdint>

#include "loom/base/status.h"
#include "loom/base/thread_pool.h"
#include "loom/tessel/analysis.h"
#include "loom/tessel/model.h"
#include "loom/tessel/schedule.h"

namespace loom::tessel {

struct BnbOptions {
  int64_t node_budget = 2000000;  // total, split evenly over subtrees
  int split_depth = 2;            // tree levels expanded before handing subtrees to the pool
  ThreadPool* pool = nullptr;     // nullptr = DefaultThreadPool()
};

struct BnbResult {
  Schedule best;          // the incumbent or an improvement
  double makespan = 0;
  double lower_bound = 0;  // valid for every schedule (static bound, or the optimum if proven)
  bool proven = false;     // every subtree finished: best is optimal under the mid-order rule
  bool improved = false;
  int64_t nodes = 0;
  int subtrees = 0;
};

StatusOr<BnbResult> SearchMakespan(const Placement& p, const Analysis& a, int num_micro,
                                   const Schedule& incumbent, const BnbOptions& options);

}  // namespace loom::tessel
