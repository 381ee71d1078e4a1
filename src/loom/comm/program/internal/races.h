// The validator's race check (see ValidateOptions::check_races). Private to comm_program.
// Precondition: the program passed the structural checks and connection matching.
#pragma once

#include <cstdint>
#include <map>
#include <tuple>
#include <vector>

#include "loom/base/status.h"
#include "loom/comm/program/program.h"

namespace loom::comm::program::internal {

// Largest steps × thread blocks (all ranks) the check runs on; larger programs are not checked.
// The vector clocks take 4 bytes per entry: 128 MiB at the limit, which covers e.g. a ring
// allgather on 300 GPUs (90k steps, 300 thread blocks).
inline constexpr size_t kMaxRaceCheckClockEntries = size_t{1} << 25;

void CheckRaces(const Program& program, std::vector<Status>& problems, size_t max_problems);

// The slow reference for tests (races_reference.cc): the transitive closure as steps² bits,
// every conflicting pair of every chunk reported. Programs over 32768 steps are skipped.
inline constexpr size_t kMaxReferenceRaceCheckSteps = 32768;
void CheckRacesReference(const Program& program, std::vector<Status>& problems,
                         size_t max_problems);

// What both checks share (races.cc).
struct RaceAccess {
  size_t event;
  bool write;
};
struct RaceGraph {
  std::vector<std::tuple<int, int, int>> where;  // event id -> (rank, tb, step)
  std::vector<uint32_t> block_of;                // event id -> global thread block number
  uint32_t blocks = 0;
  std::vector<std::vector<size_t>> succ;  // happens-before edges
  std::vector<size_t> order;              // a topological order; empty when there is a cycle
  // (rank, buffer, chunk) -> accesses in event order (output aliased to input in place).
  std::map<std::tuple<int, int, int>, std::vector<RaceAccess>> chunks;
};
// Events are (rank, tb, step) in that order; edges: program order, dependencies, and the i-th
// send on a connection before its i-th receive.
RaceGraph BuildRaceGraph(const Program& program);
// "gpu r tb t step s writes o[c] and gpu ... reads it with no ... chain ...: a race".
Status RaceProblem(const RaceGraph& graph, const std::tuple<int, int, int>& chunk, RaceAccess x,
                   RaceAccess y);

}  // namespace loom::comm::program::internal
