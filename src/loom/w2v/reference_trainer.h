// The slow scalar reference trainer, the oracle of the fast trainer: one thread, the loop of
// word2vec.c's TrainModelThread transcribed statement by statement over the token stream
// (same LCG consumption, same float arithmetic order, learning rate refreshed every 10,000
// words), with the end-of-file bug fixed. Compiled with -ffp-contract=off so that, given the
// same vocabulary and a corpus ending in a newline, its syn0 equals word2vec.c -threads 1
// bit for bit. Thread-safety: none.
#pragma once

#include <cstdint>
#include <span>

#include "loom/w2v/model.h"
#include "loom/w2v/train_context.h"

namespace loom::w2v {

// Trains `model` (initialised by InitModel) for options.iter epochs over `tokens`.
void ReferenceTrain(const TrainContext& ctx, std::span<const uint32_t> tokens, Model* model);

}  // namespace loom::w2v
