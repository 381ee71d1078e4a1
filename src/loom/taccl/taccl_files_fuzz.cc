// Fuzz target: TACCL profile / sketch and loom topology readers, then topology building, must
// return a Status on any input and never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/taccl/sketch.h"
#include "loom/taccl/taccl_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  using namespace loom::taccl;
  auto p = ParseTacclProfile(text, "fuzz");
  auto l = ParseLoomTopology(text, "fuzz");
  auto s = ParseTacclSketch(text, "fuzz");
  if (s.ok() && s->nnodes <= 8) {
    auto t = BuildTopology(Ndv2Profile(), *s);
    if (t.ok()) (void)CheckSymmetry(*t, *s);
    auto t2 = BuildTopology(Dgx2Profile(), *s);
    if (t2.ok()) (void)CheckSymmetry(*t2, *s);
  }
  if (l.ok()) {
    Sketch sk = DefaultSketch(*l, 2);
    (void)BuildTopology(*l, sk);
  }
  (void)p;
  return 0;
}
