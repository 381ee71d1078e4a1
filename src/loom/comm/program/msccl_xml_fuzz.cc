// Fuzz target: the MSCCL XML reader and the validator return a Status on any input, never
// crash or hang; whatever parses survives write -> parse unchanged (the canonical writer).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/base/check.h"
#include "loom/comm/program/program.h"
#include "loom/comm/program/validate.h"
#include "loom/comm/program/xml.h"

using namespace loom::comm::program;  // NOLINT: a fuzz entry point, not a header

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseMscclXml(text, "fuzz");
  if (!parsed.ok()) return 0;
  Program p = parsed->program;
  for (auto dialect : {std::optional<Dialect>(), std::optional<Dialect>(Dialect::kMsccl),
                       std::optional<Dialect>(Dialect::kExecutor)}) {
    ValidateOptions opts;
    opts.dialect = dialect;
    (void)FindProblems(p, opts);
  }
  // Round trip in the detected dialect: the writer recomputes hasdep and (executor) fills the
  // byte range, so apply the same to the expectation.
  ComputeHasDep(p);
  if (parsed->dialect == Dialect::kExecutor) {
    if (!p.out_of_place) p.out_of_place = true;
    if (!p.min_bytes) p.min_bytes = 0;
    if (!p.max_bytes) p.max_bytes = kLegacyDefaultMaxBytes;
  }
  auto written = WriteMscclXml(p, parsed->dialect);
  if (!written.ok()) return 0;
  auto again = ParseMscclXml(*written, "fuzz-rewritten");
  LOOM_CHECK(again.ok()) << "the writer produced XML its reader rejects: " << again.status();
  LOOM_CHECK(again->program == p) << "write -> parse changed the program";
  auto twice = WriteMscclXml(again->program, parsed->dialect);
  LOOM_CHECK(twice.ok() && *twice == *written) << "the writer is not canonical";
  return 0;
}
