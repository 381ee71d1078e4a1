// A slow, obvious, single-threaded interpreter of an MSCCL Program on integer data: the oracle
// for lowering. Every rank's buffers hold (rank, chunk, element, iteration) tags; TBs run their
// steps in order, receives pair FIFO with sends per (src, dst, channel), dependencies wait; a
// stuck program is reported with the GPU / TB / step that cannot proceed. Afterwards every
// destination element is compared with the collective's definition (reductions exact in int64).
// Thread-compatible.
#pragma once

#include "loom/base/status.h"
#include "loom/taccl/program.h"

namespace loom::taccl {

// Runs `iterations` loop iterations (separate data per iteration, as the runtimes do) with
// `elems` int64 elements per chunk, then checks the result.
Status ExecuteAndCheck(const Program& program, int elems = 3, int iterations = 2);

}  // namespace loom::taccl
