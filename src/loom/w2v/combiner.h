// Per-word model combiners for the distributed trainer (GraphWord2Vec-style, brief 3.4; a
// hypothesis of what the paper does, measured rather than assumed): after a round, each
// touched row's per-rank deltas since the last round are combined into one delta.
// - kSum: the sum of the deltas;
// - kAverage: the sum divided by P (pWord2Vec's MPI model averaging, Allreduce-sum then / P
//   over the synchronised rows: a row touched by one rank keeps 1/P of its update);
// - kTouchedAverage: the sum divided by the number of ranks that touched the row (k of P): a
//   row only one rank touched keeps its whole update (as a pWord2Vec row outside the
//   synchronised prefix stays rank-local), a row every rank touched is averaged. Which ranks
//   touched a row is known on every rank: the touched ids travel with the deltas, so the
//   per-row count k needs no extra message. Neither fixes averaging's 1/P step for the
//   frequent rows every rank touches (each delta comes from 1/P of the words); the learning-
//   rate-scaling alternative, average at alpha x P, needs no combiner (-alpha; README, G6);
// - kAdasum: Adasum(a, b) = (1 - a.b / (2|a|^2)) a + (1 - a.b / (2|b|^2)) b per row over
//   Horovod's rank tree, Adasum(a, 0) = a: orthogonal deltas add, identical deltas average, a
//   lone delta is kept whole. It is not computed here: the distributed trainer runs the adasum
//   module's VHDD allreduce (loom/adasum/adasum.h), whose oracle is adasum::TreeReference.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "loom/base/status.h"

namespace loom::w2v {

enum class Combiner { kSum, kAverage, kTouchedAverage, kAdasum };
StatusOr<Combiner> ParseCombiner(std::string_view name);
std::string_view CombinerName(Combiner c);

// Sum, average or touched-average (kAdasum is a programming error: see above). deltas[r] is rank r's delta
// (dim floats) or nullptr when rank r did not touch the row. Writes the combined delta to `out`.
void CombineRow(Combiner combiner, const std::vector<const float*>& deltas, int64_t dim, float* out);

}  // namespace loom::w2v
