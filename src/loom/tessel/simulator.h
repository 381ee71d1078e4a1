// The simulator: executes per-device run orders as soon as possible. Each op starts when all
// its devices have finished the ops before it in their orders and its predecessors in the same
// micro-batch have ended (plus edge latency). This is how baselines (GPipe, 1F1B, interleaved,
// ZB) are reproduced from their per-rank orders, how exported action lists are replayed, and
// how a repetend unroll is tightened (an ASAP execution of a feasible schedule's own orders is
// never later at any op, and keeps every device's memory prefix sums unchanged).
// Thread-safety: pure functions.
#pragma once

#include <utility>
#include <vector>

#include "loom/base/status.h"
#include "loom/tessel/analysis.h"
#include "loom/tessel/model.h"
#include "loom/tessel/schedule.h"

namespace loom::tessel {

struct OrderItem {
  int block = 0;
  int mid = 0;
};

// orders[d] lists, in run order, every (block, micro) that uses device d; a multi-device
// block must appear in the order of each of its devices. Fails (FailedPrecondition naming the
// stuck ops) on a deadlock or an inconsistent order.
StatusOr<Schedule> ExecuteOrders(const Placement& p, const Analysis& a, int num_micro,
                                 const std::vector<std::vector<OrderItem>>& orders);

// ASAP re-execution of a schedule's own per-device orders (keeps the repetend annotation).
StatusOr<Schedule> Tighten(const Placement& p, const Analysis& a, const Schedule& s);

}  // namespace loom::tessel
