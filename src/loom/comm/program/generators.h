// Built-in collective algorithms written as programs (program.h). They test the XML layer, the
// validator and the interpreter against the hand-written algorithms, and serve taccl as
// baselines. Every generated program is valid under both dialects' rules.
// Thread-safety: pure functions.
#pragma once

#include "loom/base/status.h"
#include "loom/comm/program/program.h"

namespace loom::comm::program {

// Ring allreduce on `num_ranks` ranks over `channels` independent rings (nchunksperloop =
// num_ranks x channels; channel c owns chunks [c·p, (c+1)·p)). Per channel one thread block
// per rank: s, (p-2) x rrs, rrcs, (p-2) x rcs, r. Reads i, writes o; safe in place. With one
// channel it is the schedule of algo::AllReduceRing (same summation order per element).
StatusOr<Program> RingAllReduceProgram(int num_ranks, int channels = 1);

// Ring allgather: rank r's input (channels chunks) lands at output chunks [r·ch, (r+1)·ch).
// Per channel one thread block per rank: cpy, s, (p-2) x rcs, r.
StatusOr<Program> RingAllGatherProgram(int num_ranks, int channels = 1);

}  // namespace loom::comm::program
