// The slow obvious forward pass, kept as the oracle for PhiModel: the whole sequence at once,
// no KV cache, no GEMM, plain loops with double accumulators, written straight from HF's op
// order for both architectures. Used by tests and `loom phi bench --verify`.
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "loom/phi/config.h"
#include "loom/phi/weights.h"

namespace loom::phi {

// Logits [T x vocab] of every position of `tokens` (ids must be < vocab_size).
std::vector<float> ReferenceForward(const PhiConfig& c, const PhiWeights& w,
                                    std::span<const int32_t> tokens);

}  // namespace loom::phi
