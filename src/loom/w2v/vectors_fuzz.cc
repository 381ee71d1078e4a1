// Fuzz target: the vector-file reader returns a Status on any bytes (never crashes, never
// allocates what the header promises before checking the file can hold it).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/w2v/vectors_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (auto f : {loom::w2v::VectorFormat::kAuto, loom::w2v::VectorFormat::kText,
                 loom::w2v::VectorFormat::kBinary}) {
    auto v = loom::w2v::ParseVectors(bytes, f, "fuzz", size % 3);
    if (v.ok() && v->words.size() * static_cast<size_t>(v->dim) != v->data.size()) __builtin_trap();
  }
  return 0;
}
