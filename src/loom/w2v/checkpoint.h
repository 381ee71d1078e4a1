// Checkpoints of a training run (docs/formats/word2vec-vectors.md): the vocabulary, the
// matrices and the TrainState, written atomically at epoch ends; loading one and calling
// Train again continues the run (bit-identical to an uninterrupted run with one thread).
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "loom/base/status.h"
#include "loom/w2v/model.h"
#include "loom/w2v/options.h"
#include "loom/w2v/trainer.h"
#include "loom/w2v/vocab.h"

namespace loom::w2v {

struct Checkpoint {
  TrainOptions options;
  Vocabulary vocab;
  Model model;
  TrainState state;
};

Status SaveCheckpoint(const std::string& path, const TrainOptions& options, const Vocabulary& vocab,
                      const Model& model, const TrainState& state);
// DataLoss for a truncated or inconsistent file.
StatusOr<Checkpoint> LoadCheckpoint(const std::string& path);

}  // namespace loom::w2v
