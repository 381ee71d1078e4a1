// Closed-form baseline schedules as per-rank run orders, executed by the simulator:
// GPipe, 1F1B (PipeDream-flush), Megatron's interleaved 1F1B, and the zero-bubble ZB-H1/H2
// family as a greedy list policy (B first, F while the in-flight limit allows, W to fill).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/tessel/model.h"
#include "loom/tessel/placements.h"
#include "loom/tessel/schedule.h"

namespace loom::tessel {

struct Baseline {
  Placement placement;
  Schedule schedule;
};

// name: gpipe | 1f1b | interleaved | zbh1 | zbh2. Uses o.devices, o.f, o.b, o.w, o.chunks.
// zbh1 caps in-flight micro-batches on stage i at p − i (1F1B's memory), zbh2 at 2(p − i) − 1.
StatusOr<Baseline> MakeBaseline(const std::string& name, const PlacementOptions& o, int num_micro);
std::vector<std::string> BaselineNames();

}  // namespace loom::tessel
