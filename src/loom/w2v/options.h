// Training options with word2vec.c's defaults (brief 4), plus loom's mode/seed/batch flags.
// Thread-safety: a plain value.
#pragma once

#include <cstdint>
#include <string>

#include "loom/base/status.h"

namespace loom::w2v {

enum class Mode { kExact, kBatched };

struct TrainOptions {
  int64_t dim = 100;         // -size
  int window = 5;            // -window
  float sample = 1e-3f;      // -sample
  bool hs = false;           // -hs
  int negative = 5;          // -negative
  int threads = 1;           // -threads
  int iter = 5;              // -iter
  int64_t min_count = 5;     // -min-count
  float alpha = -1;          // -alpha; < 0 means 0.05 for CBOW, 0.025 for skip-gram
  bool cbow = true;          // -cbow (word2vec.c's default is CBOW)
  Mode mode = Mode::kExact;  // --mode
  int batch_size = 11;       // --batch-size (HogBatch inputs per minibatch)
  uint64_t seed = 1;         // --seed; 1 reproduces word2vec.c's seeds

  float starting_alpha() const { return alpha >= 0 ? alpha : (cbow ? 0.05f : 0.025f); }
  Status Validate() const;
};

}  // namespace loom::w2v
