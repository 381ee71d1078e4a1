// The placement library: parameterised per-micro-batch block DAGs (Tessel's cases plus
// multi-chunk and zero-bubble B/W split variants). Every block structure is drawn in
// docs/formats/tessel-placements.md; names below are what `loom tessel --placement` accepts.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/tessel/model.h"

namespace loom::tessel {

struct PlacementOptions {
  int devices = 4;
  double f = 1;        // forward span per stage
  double b = 3;        // backward span per stage (backward-input when split_w)
  double w = 1;        // backward-weight span, used when split_w
  int chunks = 2;      // model chunks per device for interleaved / zbv
  bool split_w = false;  // zero-bubble: split each backward into B (input) and W (weight)
  double w_memory = 0;   // with split_w: share of a forward's memory that W (not B) frees
  bool train = true;     // false: forward blocks only (inference)
  double cap = kNoCap;   // per-device memory cap (same on every device)
  double tp_span = 1;    // span of the all-device (tensor-parallel) blocks
};

// Names: vshape (1f1b), xshape (chimera), mshape, nnshape, nnshape_eager, kshape, interlaced
// (mllm), finetune, alphafold, interleaved, zbv. Aliases: 1f1b, chimera, mllm, zb (vshape with
// split_w). Memory: forward +1 (0 for TP, recompute and no-grad blocks), backward −1, or with
// split_w B −(1 − w_memory) and W −w_memory (ZB paper: B frees M_B, W the small M_W).
StatusOr<Placement> MakePlacement(const std::string& name, const PlacementOptions& options);
std::vector<std::string> PlacementNames();

}  // namespace loom::tessel
