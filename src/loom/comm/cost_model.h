// The α-β-γ cost model of loom's point-to-point collective algorithms (Hockney's model as
// Thakur, Rabenseifner & Gropp use it, IJHPCA 19(1), 2005; the systems brief's §3.2):
//   time = α · (messages on the critical path) + β · (bytes moved on it) + γ · (bytes reduced on
//   it).
// A message of b bytes holds the sender's port and the receiver's port for α + b·β (one send
// and one receive at a time per rank, full duplex), so posting many messages at once gains
// nothing: the model has no overlap or contention term and cannot tell the linear and pairwise
// alltoall apart (both (p − 1)α + (p − 1)/p·nβ). Local copies and rotations are free.
//
// `bytes` means what SelectAlgorithm's does (communicator.h): the vector for allreduce,
// broadcast and reduce; the size()·count side for allgather, reduce-scatter, alltoall, gather
// and scatter. The closed forms assume blocks that divide evenly
// (count a multiple of p, or of the power of two below p where the algorithm folds); with
// uneven blocks the largest block sets each step and the model is a lower bound.
//
// | collective     | algorithm          | time | | allreduce      | ring               | 2(p−1)α +
// 2(p−1)/p·nβ + (p−1)/p·nγ                        | | allreduce      | halving-doubling   | 2 lg
// p'·α + 2(p'−1)/p'·nβ + (p'−1)/p'·nγ, + fold          | | allreduce      | recursive doubling | lg
// p'·(α + nβ + nγ), + fold                              | |                | fold (p ≠ p')      |
// (α + nβ + nγ) in, (α + nβ) out; p' = 2^⌊lg p⌋            | | allgather      | ring | (p−1)α +
// (p−1)/p·nβ                                      | | allgather      | recursive doubling | lg p·α
// + (p−1)/p·nβ (p = 2^k)                            | | allgather      | Bruck              | ⌈lg
// p⌉α + (p−1)/p·nβ                                     | | reduce-scatter | ring               |
// (p−1)α + (p−1)/p·n(β + γ)                                 | | alltoall(v)    | pairwise, linear
// | (p−1)α + (p−1)/p·nβ                                      | | broadcast      | binomial | ⌈lg
// p⌉(α + nβ)                                           | | reduce         | binomial           |
// ⌈lg p⌉(α + nβ + nγ)                                      | | gather/scatter | binomial | ⌈lg p⌉α
// + (p−1)/p·nβ                                     | | gather/scatter | linear             | (p−1)α
// + (p−1)/p·nβ                                      |
//
// The oracle (thread/cost_model_test.cc): each algorithm's real schedule, recorded on thread
// ranks (schedule_trace.h) and replayed under this port model (rendezvous messages), takes
// exactly these times at every p in 1..16 tested, powers of two or not, each term alone and
// all three together.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

#include "loom/base/status.h"
#include "loom/comm/communicator.h"

namespace loom::comm {

struct CostParams {
  double alpha_s = 0;           // per message
  double beta_s_per_byte = 0;   // per byte moved (1 / link bandwidth)
  double gamma_s_per_byte = 0;  // per byte reduced (1 / reduction throughput)
};

// The point-to-point algorithms that implement `kind` at `ranks` (kShm excluded).
std::vector<Algorithm> ModelledAlgorithms(CollectiveKind kind, int ranks);

// The closed form above. InvalidArgument when `algorithm` does not implement `kind` at `ranks`
// (kAuto and kShm are not modelled), or ranks < 1.
StatusOr<double> ModelSeconds(CollectiveKind kind, Algorithm algorithm, int ranks, size_t bytes,
                              const CostParams& params);

// The modelled fastest of ModelledAlgorithms (the first in that order on a tie).
StatusOr<Algorithm> ModelChoice(CollectiveKind kind, int ranks, size_t bytes,
                                const CostParams& params);

// α and β of t = α + b·β from measured one-way message times (b bytes, t seconds), fitted by
// least squares on the relative error (weights 1/t², so 8 B and 4 MiB points count alike); a
// negative α is clamped to 0 and β refitted. InvalidArgument with fewer than two distinct sizes
// or a non-positive time. γ is not touched (0).
StatusOr<CostParams> FitAlphaBeta(const std::vector<std::pair<size_t, double>>& one_way);

}  // namespace loom::comm
