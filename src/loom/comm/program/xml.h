// MSCCL XML <-> Program (program.h), in both runtime dialects. docs/formats/msccl-xml.md is
// the specification.
//
//   kMsccl:    the original runtime (microsoft/msccl): coll="reduce_scatter", `custom`; the byte
//              range is optional (defaults 0 and 128 MiB); no `outofplace`.
//   kExecutor: msccl-executor-nccl (Azure): coll="reducescatter", also send, recv, gather,
//              scatter, alltoallv; `outofplace`, `minBytes` and `maxBytes` are required.
//
// The reader accepts the union of both dialects and reports which one the file looked like; it
// checks only what it needs to build the IR (well-formed XML, required attributes, integers,
// names, resolvable dependencies). Everything else (ranges, peers, limits, schedule) is the
// validator's job (validate.h), so a program built in memory gets exactly the same checks.
//
// On reading, `nop` steps are folded: their dependencies are attached to the next real step,
// as both runtimes do; a dependency list that ends the thread block stays one IR nop step. On
// writing, a step with k dependencies becomes k-1 `nop` steps followed by the step itself, and
// `hasdep` is recomputed. The writer is canonical (fixed attribute order and layout), so
// Write(Parse(x)) == x for every file loom wrote, and Parse(Write(p)) == p for valid p.
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "loom/base/status.h"
#include "loom/comm/program/program.h"

namespace loom::comm::program {

enum class Dialect { kMsccl, kExecutor };

std::string_view DialectName(Dialect d);  // "msccl", "executor"
StatusOr<Dialect> ParseDialect(std::string_view text);

struct ParsedXml {
  Program program;
  // kMsccl when the file spells reduce_scatter or custom; kExecutor when it spells
  // reducescatter or an executor-only collective, or carries all of outofplace, minBytes and
  // maxBytes (which the executor requires); kMsccl otherwise.
  Dialect dialect = Dialect::kMsccl;
};

// Parses MSCCL XML text. `source` (a file name) prefixes every error message; errors inside
// the algorithm name the gpu, tb and XML step index.
StatusOr<ParsedXml> ParseMscclXml(std::string_view text, std::string_view source = "<xml>");
StatusOr<ParsedXml> ReadMscclXmlFile(const std::string& path);

// Serialises `program` in `dialect`. Fails (InvalidArgument) when the dialect cannot express
// it: executor-only collectives in kMsccl; `custom` or `ra` steps in kExecutor. Optional
// attributes are written only when present (kMsccl ignores `outofplace`, so it may carry it). For kExecutor an absent byte range is filled with the legacy runtime's defaults
// (0, 128 MiB) and an absent `outofplace` with 1, which is what converting a legacy file needs.
// Does not validate; call ValidateProgram first to refuse programs no runtime would run.
StatusOr<std::string> WriteMscclXml(const Program& program, Dialect dialect);
Status WriteMscclXmlFile(const std::string& path, const Program& program, Dialect dialect);

}  // namespace loom::comm::program
