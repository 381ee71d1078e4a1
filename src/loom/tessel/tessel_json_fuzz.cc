// Fuzz target: the Tessel JSON reader (with the loom_placement extension) and the plan ->
// schedule conversion must return a Status on any input, never crash or hang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/tessel/tessel_json.h"
#include "loom/tessel/validator.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto plan = loom::tessel::ParseTesselJson(text, "fuzz");
  if (!plan.ok()) return 0;
  if (plan->blocks.size() > 5000) return 0;
  auto ps = loom::tessel::ScheduleFromPlan(*plan, nullptr);
  if (!ps.ok()) return 0;
  if (ps->second.num_micro > 5000) return 0;
  (void)loom::tessel::ValidateSchedule(ps->first, ps->second);
  (void)loom::tessel::TesselPlanToJson(*plan);
  return 0;
}
