// Fuzz target: ParseJson and the typed accessors must return a Status on any input, never
// crash, hang or overflow the stack.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/base/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = loom::ParseJson(text, "fuzz");
  if (!doc.ok()) return 0;
  // Walk the document with the typed accessors, as readers do.
  auto walk = [](auto& self, const loom::JsonValue& v, int depth) -> void {
    if (depth > 64) return;
    (void)v.AsDouble();
    (void)v.AsInt();
    (void)v.AsString();
    (void)v.GetInt("n", 0);
    if (auto elems = v.Elements(); elems.ok())
      for (const auto& e : *elems) self(self, e, depth + 1);
    if (auto members = v.Members(); members.ok())
      for (const auto& [k, m] : *members) self(self, m, depth + 1);
  };
  walk(walk, *doc, 0);
  return 0;
}
