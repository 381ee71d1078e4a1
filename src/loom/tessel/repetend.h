// Repetend search: the steady state as a cyclic schedule. Block b of micro-batch j starts at
// offset[b] + j·period. The period is searched upward from λ* (the per-device busy-time lower
// bound); for each period a depth-first search places blocks in topological order at modular
// slots (the release time or right after an interval already on one of its devices, modulo
// the period), pruning on the micro-batch span bound max(t_b + tail_b), and checks memory caps
// on the unrolled steady state at each leaf. The first leaf is a greedy tight packing, the
// constructive incumbent (Tessel-fast's role); the rest of the search improves or proves it.
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <vector>

#include "loom/base/status.h"
#include "loom/tessel/analysis.h"
#include "loom/tessel/model.h"
#include "loom/tessel/schedule.h"

namespace loom::tessel {

struct RepetendOptions {
  int64_t node_budget = 200000;  // DFS nodes per period tried
  int max_periods = 400;         // periods tried before giving up
  double granularity = 0;        // period step; 0 = 1 for integral inputs, else λ*/100
  bool minimize_latency = false;  // lexicographic (span, period) instead of (period, span)
  int num_micro = 128;           // memory is checked on min(num_micro, enough) micro-batches
};

struct Repetend {
  double period = 0;
  double period_bound = 0;        // λ*
  bool period_proven = false;     // period == λ*, hence optimal
  std::vector<double> offset;     // start of block b in micro-batch 0; min offset is 0
  double span = 0;                // one micro-batch: max(offset + span_b)
  bool span_proven = false;       // the DFS at this period finished: span is minimal
  int64_t nodes = 0;
  int periods_tried = 0;
};

StatusOr<Repetend> SearchRepetend(const Placement& p, const Analysis& a,
                                  const RepetendOptions& options);

// The periodic schedule truncated to M micro-batches (window = copy of the middle micro-batch).
Schedule UnrollRepetend(const Placement& p, const Repetend& r, int num_micro);

// Per-device memory peak of the steady state unrolled to `num_micro` micro-batches.
std::vector<double> UnrolledPeaks(const Placement& p, const Repetend& r, int num_micro);

}  // namespace loom::tessel
