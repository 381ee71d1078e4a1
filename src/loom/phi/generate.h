// Sampling and the generation loop: greedy or temperature sampling with top-k, top-p and a
// repetition penalty (HF's order: penalty, temperature, top-k, top-p), seeded; padded
// vocabulary rows (ids >= vocab_limit) are never produced; generation stops on any stop id.
// Tokens are streamed to a callback as they are produced. LongRoPE models follow HF's
// generate(): when the sequence first grows past original_max_position_embeddings the KV
// cache is dropped and the whole sequence is recomputed with the long factors.
// Thread-safety: a Sampler belongs to one sequence.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "loom/base/random.h"
#include "loom/base/status.h"
#include "loom/phi/model.h"

namespace loom::phi {

struct SamplingOptions {
  float temperature = 0.0f;  // 0 = greedy
  int64_t top_k = 0;         // 0 = off
  float top_p = 1.0f;        // 1 = off
  float repetition_penalty = 1.0f;
  uint64_t seed = 1;
  int64_t vocab_limit = 0;   // ids >= this are masked; 0 = the whole logit row
};

class Sampler {
 public:
  explicit Sampler(SamplingOptions o) : o_(o), rng_(o.seed) {}
  // Picks the next id from one logit row; `history` feeds the repetition penalty.
  int32_t Next(std::span<const float> logits, std::span<const int32_t> history);

 private:
  SamplingOptions o_;
  Prng rng_;
};

struct GenerateOptions {
  SamplingOptions sampling;
  int64_t max_new_tokens = 32;
  std::vector<int32_t> stop_ids;
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (a stop id, if hit, is included last)
  bool stopped = false;         // ended on a stop id
  double prefill_seconds = 0, decode_seconds = 0;
};

// on_token(id) is called for each generated id; returning false ends generation.
StatusOr<GenerateResult> Generate(const PhiModel& model, std::span<const int32_t> prompt,
                                  const GenerateOptions& options,
                                  const std::function<bool(int32_t)>& on_token = nullptr);

}  // namespace loom::phi
