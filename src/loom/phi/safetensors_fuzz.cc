// Fuzz target: ParseSafetensors must return a Status on any byte string, and every view it
// accepts must lie inside the input and convert without reading out of bounds.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "loom/base/check.h"
#include "loom/phi/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> image(data, size);
  auto views = loom::phi::ParseSafetensors(image, "fuzz.safetensors");
  if (!views.ok()) return 0;
  for (const auto& v : *views) {
    LOOM_CHECK(v.bytes.data() >= data && v.bytes.data() + v.bytes.size() <= data + size);
    if (v.numel() > (1 << 20)) continue;
    std::vector<float> out(static_cast<size_t>(v.numel()));
    (void)v.ToFloat(out);
  }
  return 0;
}
