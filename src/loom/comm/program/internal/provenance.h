// The validator's chunk-provenance check (see ValidateOptions::check_postcondition). Private to
// comm_program. Precondition: the program passed the structural and schedule checks.
#pragma once

#include <vector>

#include "loom/base/status.h"
#include "loom/comm/program/program.h"

namespace loom::comm::program::internal {

void CheckProvenance(const Program& program, std::vector<Status>& problems, size_t max_problems);

}  // namespace loom::comm::program::internal
