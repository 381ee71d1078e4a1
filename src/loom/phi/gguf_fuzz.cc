// Fuzz target: GgufFile::Parse must return a Status on any byte string; every tensor it
// accepts lies inside the input; a file that also passes PhiConfigFromGguf loads its weights
// (or fails with a Status) without reading out of bounds; an embedded vocabulary becomes a
// tokenizer or a Status, and a tokenizer it makes encodes and decodes a text.
#include <cstddef>
#include <cstdint>
#include <span>

#include "loom/base/check.h"
#include "loom/phi/gguf.h"
#include "loom/phi/gguf_phi.h"
#include "loom/phi/gguf_tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = loom::phi::GgufFile::Parse(std::span<const uint8_t>(data, size), "fuzz.gguf");
  if (!file.ok()) return 0;
  for (const auto& t : (*file)->tensors()) {
    const auto bytes = (*file)->Data(t);
    LOOM_CHECK(bytes.data() >= data && bytes.data() + bytes.size() <= data + size);
  }
  if (loom::phi::GgufHasTokenizer(**file)) {
    auto tok = loom::phi::TokenizerFromGguf(**file);
    if (tok.ok()) {
      const auto ids = (*tok)->Encode("Hello <|end|> world\n\xff\xfe caf\xc3\xa9 123");
      (void)(*tok)->Decode(ids);
    }
  }
  auto config = loom::phi::PhiConfigFromGguf(**file);
  if (!config.ok()) return 0;
  // Weights are read from the tensors, which lie inside the input: bounded work.
  (void)loom::phi::PhiWeightsFromGguf(**file, *config);
  return 0;
}
