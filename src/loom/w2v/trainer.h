// The fast trainer: T threads over exact token ranges of the encoded corpus, lock-free
// (Hogwild) updates as in word2vec.c. Exact mode follows word2vec.c's per-thread loop (the
// reference trainer's), with vectorised kernels; batched mode is HogBatch (skip-gram, shared
// negatives per minibatch, hogbatch.h). Threads join at each epoch end, where the state can be
// checkpointed; resuming from a state continues the same run.
// Thread-safety: Train is not reentrant on one model.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "loom/base/status.h"
#include "loom/w2v/model.h"
#include "loom/w2v/train_context.h"

namespace loom::w2v {

// What resumes a run: epochs finished, words processed (the learning-rate clock) and each
// thread's LCG and learning rate.
struct TrainState {
  int epochs_done = 0;
  int64_t words_done = 0;
  std::vector<uint64_t> rng;
  std::vector<float> alpha;
  // CPU seconds the training threads spent in this process (summed over threads; a measure,
  // not checkpointed). Per word it does not depend on how loaded the machine is, so it shows
  // what a second thread costs where wall-clock scaling cannot (bench/w2v_scaling.sh).
  double cpu_seconds = 0;
};
TrainState InitialTrainState(const TrainOptions& options);

// word2vec.c's linear decay: starting alpha x (1 - words / (iter x train words + 1)), floored
// at 1e-4 of the start. `words` is the learning-rate clock (TrainState::words_done).
float DecayedAlpha(const TrainContext& ctx, int64_t words);

enum class Kernels { kFast, kSequential };

using EpochCallback = std::function<Status(const TrainState&)>;

// One pass over `tokens` (handed to the threads of `state` in chunks: token_chunks.h), advancing
// the threads' LCGs and learning rates and state->words_done; epochs_done is left alone. The
// building block of Train and of the distributed trainer's rounds. When `touched_out` is set,
// it is sized to the vocabulary and row w is set to 1 for every output row (syn1neg target or
// negative, syn1 inner node) the pass updated; rows already marked stay marked.
//
// `clock_ranks`: the learning-rate clock advances this many words per word trained here, for
// P ranks training equal slices of a round at the same time (each sees only its own words
// until the round's end); 1 is word2vec.c's clock. state->words_done counts this call's words.
Status TrainSlice(const TrainContext& ctx, std::span<const uint32_t> tokens, Model* model,
                  TrainState* state, Kernels kernels = Kernels::kFast,
                  std::vector<uint8_t>* touched_out = nullptr, int clock_ranks = 1);

// Runs epochs state->epochs_done .. options.iter - 1, calling `after_epoch` (if set) after
// each. FailedPrecondition if the state's thread count differs from the options'.
Status Train(const TrainContext& ctx, std::span<const uint32_t> tokens, Model* model,
             TrainState* state, const EpochCallback& after_epoch = {},
             Kernels kernels = Kernels::kFast);

}  // namespace loom::w2v
