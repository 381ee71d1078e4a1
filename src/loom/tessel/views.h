// Human views and runtime exports of a schedule:
// - ASCII in Tessel's `SchedPlan.__repr__` layout (integer times only),
// - a self-contained SVG Gantt chart with per-device memory curves, repetend markers and the
//   bubble ratio (no scripts, fonts or external references),
// - per-rank action lists in PyTorch pipelining's CSV style (tokens like 1F0), and the reader
//   that turns such a CSV back into per-device orders for the simulator.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "loom/base/status.h"
#include "loom/tessel/model.h"
#include "loom/tessel/schedule.h"
#include "loom/tessel/simulator.h"

namespace loom::tessel {

// One row per device; each step prints the block's letter and micro-batch (f0, b3, w1, o2),
// repeated for each step of its span and joined by '-', "--" for idle, " |" at the repetend
// bounds. InvalidArgument when a start or duration is not an integer.
StatusOr<std::string> AsciiView(const Placement& p, const Schedule& s);

std::string SvgGantt(const Placement& p, const Schedule& s, const std::string& title);

// Stage of a block in action tokens: the integer after the block name's leading letter when
// the library naming (f3, b3, w3) gives one, else the block index.
int ActionStage(const Placement& p, int block);
// One line per rank: comma-separated tokens <stage><F|I|W|B|O><mid> in run order; I is the
// backward-input half when the placement splits W out, B a full backward, O any "other" block.
std::string ActionCsv(const Placement& p, const Schedule& s);
StatusOr<std::vector<std::vector<OrderItem>>> ParseActionCsv(const Placement& p,
                                                             std::string_view csv);

}  // namespace loom::tessel
