// Closed-form baseline schedules as per-rank run orders, executed by the simulator:
// GPipe, 1F1B (PipeDream-flush), Megatron's interleaved 1F1B, Chimera's bidirectional
// pipelines, and the zero-bubble
// ZB paper's hand-built ZB-H1/H2 orders on the B/W split placement.
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

// name: gpipe | 1f1b | interleaved | zbh1 | zbh2 | chimera | zbv. Uses o.devices, o.f, o.b, o.w,
// o.chunks. num_micro counts pipeline micro-batches; for chimera (even devices and num_micro)
// the schedule is on the xshape placement with num_micro / 2 micro-plans, each carrying one
// micro-batch per direction. zbv: the zbv placement (B/W split, 2 chunks) under 1F1B's memory
// (2·devices chunk activations per device), ordered by ListSchedule (list_schedule.h).
// zbh1 keeps 1F1B's in-flight count p − i on stage i and defers W by i micro-batches; zbh2 holds
// 2(p − i) − 1 in flight and defers W by 2i (makespan and idle formulas in simulator_test.cc).
StatusOr<Baseline> MakeBaseline(const std::string& name, const PlacementOptions& o, int num_micro);
std::vector<std::string> BaselineNames();

}  // namespace loom::tessel
