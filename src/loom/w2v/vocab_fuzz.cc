// Fuzz target: the -read-vocab parser returns a Status on any bytes, never crashes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/w2v/vocab.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = loom::w2v::ParseVocab(text, static_cast<int64_t>(size % 4), "fuzz");
  if (v.ok() && (v->size() < 2 || v->word(0) != "</s>")) __builtin_trap();
  return 0;
}
