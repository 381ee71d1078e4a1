// Optional optimality certificate with Z3 (`loom tessel search --verify`), for small instances.
// It encodes the schedule of M micro-batches directly, as Tessel's solver does, but with no
// symmetry rule: a start time per (block, micro-batch), dependencies with latency, pairwise
// no-overlap on every shared device, memory at every block start on every device (sum of
// deltas of the ops started no later on that device <= cap), and asks whether a makespan below
// the given one exists. unsat certifies the given makespan optimal.
// Thread-safety: each call builds its own Z3 context.
#pragma once

#include <string>

#include "loom/base/status.h"
#include "loom/tessel/model.h"

namespace loom::tessel {

struct Z3Verdict {
  enum class Kind { kOptimal, kImprovable, kUnknown } kind = Kind::kUnknown;
  double better_makespan = 0;  // when improvable: the makespan of Z3's schedule
  double seconds = 0;
  std::string ToString() const;
};

bool HaveZ3();
// Fails with Unavailable when loom was built without Z3, InvalidArgument past `max_ops`.
StatusOr<Z3Verdict> VerifyWithZ3(const Placement& p, int num_micro, double makespan,
                                 int timeout_ms = 60000, int max_ops = 400);

}  // namespace loom::tessel
