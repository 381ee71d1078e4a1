// The validator's race check (see ValidateOptions::check_races). Private to comm_program.
// Precondition: the program passed the structural checks and connection matching.
#pragma once

#include <vector>

#include "loom/base/status.h"
#include "loom/comm/program/program.h"

namespace loom::comm::program::internal {

// Largest number of steps (all ranks) the check runs on; larger programs are not checked
// (the reachability sets take steps² bits: 128 MiB at the limit, which covers TACCL-style
// allgathers on 128 GPUs, 32640 steps).
inline constexpr size_t kMaxRaceCheckSteps = 32768;

void CheckRaces(const Program& program, std::vector<Status>& problems, size_t max_problems);

}  // namespace loom::comm::program::internal
