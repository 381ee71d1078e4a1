// The bridge to comm's program IR (loom/comm/program): taccl's lowered Program converted into
// comm::program::Program, validated by comm's validator for a runtime dialect and written by
// comm's MSCCL XML writer. Every XML loom taccl emits goes through EmitXml. Pure functions.
#pragma once

#include <string>

#include "loom/base/status.h"
#include "loom/comm/program/program.h"
#include "loom/comm/program/xml.h"
#include "loom/taccl/program.h"

namespace loom::taccl {

// Field-by-field conversion; dependencies become comm's per-step lists (nops folded).
StatusOr<comm::program::Program> ToCommProgram(const Program& program);

// ToCommProgram, comm's ValidateProgram (dialect rules + schedule / deadlock check), then comm's
// writer. An error names the gpu / tb / step the validator refused.
StatusOr<std::string> EmitXml(const Program& program, Dialect dialect);

}  // namespace loom::taccl
