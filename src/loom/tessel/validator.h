// The independent schedule validator, run on every schedule loom outputs. It shares no code
// with the search or the simulator: edges are re-read from the placement, intervals and memory
// are recomputed from the ops alone.
// Checks: every (block, micro-batch) for micro-batch < M appears exactly once and nothing
// else; no two ops overlap on any device (multi-device blocks included); every placement edge
// holds within each micro-batch (with its latency); each device's memory, charged at block
// starts, never exceeds its cap. Thread-safety: pure function.
#pragma once

#include "loom/base/status.h"
#include "loom/tessel/model.h"
#include "loom/tessel/schedule.h"

namespace loom::tessel {

// OK, or FailedPrecondition naming the first violation (block name, micro-batch, device, time).
Status ValidateSchedule(const Placement& p, const Schedule& s);

}  // namespace loom::tessel
