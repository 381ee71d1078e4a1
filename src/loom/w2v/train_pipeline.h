// The end-to-end run of `loom w2v train` (word2vec.c's TrainModel): vocabulary (learned or
// read), -save-vocab, the encoded corpus (a temporary token file beside the output), model
// initialisation or resume from a checkpoint, training, and the vector file (or, with
// -classes K, word2vec.c's K-means class file instead).
// Thread-safety: one run at a time per output path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/w2v/options.h"

namespace loom::w2v {

struct PipelineOptions {
  TrainOptions train;
  std::string train_file, output, save_vocab, read_vocab;
  bool binary = false;
  int64_t classes = 0;     // -classes K: write K-means word classes instead of vectors
  std::string checkpoint;  // written after every epoch when set
  bool resume = false;     // continue from `checkpoint`
  // -iter was given: on resume it may extend the checkpoint's run; otherwise the checkpoint's
  // -iter stands (the run ends where the uninterrupted one would, not at the default 5).
  bool iter_set = false;
  bool progress = true;
};

struct PipelineResult {
  int64_t vocab_size = 0, train_words = 0, tokens = 0;
  double train_seconds = 0, total_seconds = 0;
  double train_cpu_seconds = 0;  // CPU time of the training threads (TrainState::cpu_seconds)
  double words_per_second() const {
    return train_seconds > 0 ? static_cast<double>(tokens) * 1.0 / train_seconds : 0;
  }
};

StatusOr<PipelineResult> RunTraining(const PipelineOptions& options);

// Writes the -output file from trained input vectors: word classes when options.classes > 0,
// else text or binary vectors. Shared by the single-process and distributed runs.
Status WriteOutput(const PipelineOptions& options, const std::vector<std::string>& words,
                   const std::vector<float>& syn0, int64_t dim);

}  // namespace loom::w2v
