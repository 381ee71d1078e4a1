// The program validator: every check the two MSCCL runtimes apply when loading an XML (for the
// dialect asked for), plus loom's stricter checks that make a program executable by the
// interpreter without surprises: offsets + counts inside buffers, matching send/receive
// sequences per connection, dependencies that exist and are signalled, no deadlock under
// bounded flow control, and the collective's postcondition by chunk provenance. Every message names the offending gpu, tb and step (IR step index).
//
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/comm/program/program.h"
#include "loom/comm/program/xml.h"

namespace loom::comm::program {

// Runtime limits the validator applies (NCCL/MSCCL constants).
inline constexpr int kMaxChannels = 32;                 // MAXCHANNELS
inline constexpr int kMaxStepsPerThreadBlock = 256;     // MSCCL_MAX_NUM_STEPS (XML steps)
inline constexpr int kMaxCount = 72;                    // MSCCL_MAX_COUNT (cnt < 72)
inline constexpr int kMaxTbsPerChannelPerSide = 32;     // sending (receiving) TBs per channel
inline constexpr int kLegacyMaxThreadBlocks = 216;      // 108 SMs x 2
inline constexpr int kExecutorMaxThreadBlocks = 32 * kMaxChannels;
inline constexpr int kMaxNameLength = 63;
inline constexpr int kMaxChunks = 1 << 16;  // loom: nchunksperloop and chunks per buffer

struct ValidateOptions {
  // The runtime whose load-time rules apply in addition to loom's. nullopt: loom's rules only
  // (the interpreter's contract), which include every rule both runtimes share.
  std::optional<Dialect> dialect;
  // Check the schedule: matching send/receive sequences per (sender, receiver, channel) and
  // deadlock freedom when each connection holds at most `credits` unreceived messages.
  bool check_schedule = true;
  int credits = 2;
  // After a deadlock-free schedule: execute it symbolically (each chunk = the set of (rank,
  // input chunk) it sums) and check the collective's postcondition for allreduce, allgather,
  // reduce-scatter, alltoall and broadcast (root: the rank whose input reaches rank 0); also reports reads of never-written chunks and contributions
  // reduced twice. One valid interleaving is checked (check_races covers the others).
  bool check_postcondition = true;
  // After a deadlock-free schedule: a happens-before analysis (program order, dependencies,
  // the i-th send before the i-th receive of a connection; credits do not order) reporting
  // pairs of accesses to one chunk, at least one a write, that no chain orders (at least one
  // pair per racing chunk): the result would depend on the interleaving. Programs over 2^25
  // steps × thread blocks are not checked.
  bool check_races = true;
  // Stop after this many problems.
  size_t max_problems = 64;
};

// All problems found, each an InvalidArgument Status naming gpu/tb/step; empty when valid.
std::vector<Status> FindProblems(const Program& program, const ValidateOptions& options = {});

// OK, or the first problem (with " (and N more)" appended when there are more).
Status ValidateProgram(const Program& program, const ValidateOptions& options = {});

}  // namespace loom::comm::program
