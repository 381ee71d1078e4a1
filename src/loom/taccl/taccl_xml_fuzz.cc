// Fuzz target: the MSCCL XML reader returns a Status on any input; whatever it accepts, the
// reference interpreter and the writer handle without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/taccl/program.h"
#include "loom/taccl/reference_exec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto p = loom::taccl::ParseProgramXml(text, "fuzz");
  if (p.ok() && p->ngpus() <= 16 && p->nchunksperloop <= 256) {
    (void)loom::taccl::WriteXml(*p, loom::taccl::Dialect::kExecutor);
    (void)loom::taccl::ExecuteAndCheck(*p, 1, 1);
  }
  return 0;
}
