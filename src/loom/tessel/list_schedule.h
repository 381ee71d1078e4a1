// Memory-aware list scheduling: a greedy serial schedule generator for M micro-batches. Time
// advances from event to event; at each, every free device starts the ready op of highest
// priority whose devices are all free and whose memory deltas fit every cap (charged at
// start). Priority: backward (input) blocks first, then forward and other blocks, weight
// (W) blocks last; ties to the older micro-batch, then to the earlier block in topological
// order. This is the zero-bubble paper's rule of thumb (B as early as possible, W to fill
// idle time); with 1F1B's memory cap on the ZB-V placement it builds the ZB-V schedule, and
// the search uses it as a second incumbent besides the repetend unroll.
// Thread-safety: pure function.
#pragma once

#include "loom/base/status.h"
#include "loom/tessel/analysis.h"
#include "loom/tessel/model.h"
#include "loom/tessel/schedule.h"

namespace loom::tessel {

// Fails with FailedPrecondition when the greedy run stalls (every remaining ready op would
// exceed a memory cap while nothing runs); the caps may still admit a schedule.
StatusOr<Schedule> ListSchedule(const Placement& p, const Analysis& a, int num_micro);

}  // namespace loom::tessel
