// Fuzz target: GgufFile::Parse must return a Status on any byte string; every tensor it
// accepts lies inside the input; a file that also passes PhiConfigFromGguf loads its weights
// (or fails with a Status) without reading out of bounds.
#include <cstddef>
#include <cstdint>
#include <span>

#include "loom/base/check.h"
#include "loom/phi/gguf.h"
#include "loom/phi/gguf_phi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = loom::phi::GgufFile::Parse(std::span<const uint8_t>(data, size), "fuzz.gguf");
  if (!file.ok()) return 0;
  for (const auto& t : (*file)->tensors()) {
    const auto bytes = (*file)->Data(t);
    LOOM_CHECK(bytes.data() >= data && bytes.data() + bytes.size() <= data + size);
  }
  auto config = loom::phi::PhiConfigFromGguf(**file);
  if (!config.ok()) return 0;
  // Weights are read from the tensors, which lie inside the input: bounded work.
  (void)loom::phi::PhiWeightsFromGguf(**file, *config);
  return 0;
}
