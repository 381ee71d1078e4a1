// Tessel's schedule JSON (tessel/schedule/schedplan.py save/load), read and written losslessly,
// plus loom's optional "loom_placement" member that carries the full placement (edges, per-
// device durations and memory, caps) so a file can be validated on its own. Format:
// docs/formats/tessel-json.md. Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loom/base/json.h"
#include "loom/base/status.h"
#include "loom/tessel/model.h"
#include "loom/tessel/schedule.h"

namespace loom::tessel {

struct TesselBlock {
  int mid = 0;
  double span = 1;
  double memory = 0;
  std::string btype = "forward";  // Tessel: forward | backward
  int gid = -1;                   // -1 when absent in the file
  double step = 0;
  std::vector<int> device;
};

struct TesselPlan {
  int ndevs = 0;
  double repetend_begin = 0;
  double repetend_end = 0;
  bool has_repetend = false;
  std::vector<TesselBlock> blocks;
  std::optional<Placement> placement;  // loom extension
};

StatusOr<TesselPlan> ParseTesselJson(std::string_view text, std::string_view source);
StatusOr<TesselPlan> ReadTesselJson(const std::string& path);
Json TesselPlanToJson(const TesselPlan& plan);
Status WriteTesselJson(const std::string& path, const TesselPlan& plan);

// Schedule <-> plan. gid = block index; the placement travels in `placement`.
TesselPlan PlanFromSchedule(const Placement& p, const Schedule& s);
// Uses plan.placement when present, else `fallback`, else a placement inferred from the plan
// (blocks only: Tessel files carry no edges, so dependencies cannot be checked then).
StatusOr<std::pair<Placement, Schedule>> ScheduleFromPlan(const TesselPlan& plan,
                                                          const Placement* fallback);

// The placement alone as JSON (also used inside the plan).
Json PlacementToJson(const Placement& p);
StatusOr<Placement> PlacementFromJson(const JsonValue& v);

}  // namespace loom::tessel
