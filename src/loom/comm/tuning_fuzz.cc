// Fuzz target: TuningTable::Parse returns a Status on any input, never crashes; whatever parses
// survives ToJson -> Parse with the same lookups.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/base/check.h"
#include "loom/comm/tuning.h"

using namespace loom::comm;  // NOLINT: a fuzz entry point, not a header

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto table = TuningTable::Parse(text, "fuzz");
  if (!table.ok()) return 0;
  auto again = TuningTable::Parse(table->ToJson().dump(), "fuzz-roundtrip");
  LOOM_CHECK(again.ok()) << again.status();
  for (int ranks : {1, 2, 6, 8, 16})
    for (size_t bytes : {size_t{0}, size_t{4096}, size_t{1} << 20, size_t{1} << 40}) {
      auto a = table->Lookup(CollectiveKind::kAllGather, ranks, bytes);
      auto b = again->Lookup(CollectiveKind::kAllGather, ranks, bytes);
      LOOM_CHECK(a == b) << "round trip changed a lookup";
    }
  return 0;
}
