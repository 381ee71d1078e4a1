// Runs one collective with a given algorithm on thread ranks over TracingTransport and returns
// every rank's recorded schedule (schedule_trace.h): the input of ReplaySeconds, for the cost
// model's tests and `loom comm model --replay`.
// Thread-safety: each call runs its own thread world.
#pragma once

#include <cstddef>
#include <vector>

#include "loom/base/status.h"
#include "loom/comm/communicator.h"
#include "loom/comm/schedule_trace.h"

namespace loom::comm::thread {

// `bytes` as SelectAlgorithm's (communicator.h): f32 elements, the vector for allreduce,
// broadcast and reduce, ranks·count for the others (rounded down to whole elements per rank).
// Sum reductions, `root` for the rooted collectives. InvalidArgument where `algorithm` does not
// implement `kind` at `ranks`.
StatusOr<std::vector<RankTrace>> TraceCollective(CollectiveKind kind, Algorithm algorithm,
                                                 int ranks, size_t bytes, int root = 0);

}  // namespace loom::comm::thread
