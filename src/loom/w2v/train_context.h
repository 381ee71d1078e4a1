// TrainContext: the immutable per-run tables every trainer reads (options, vocabulary,
// sigmoid table, noise sampler, subsampling thresholds, Huffman codes).
// Thread-safety: immutable after Create; share between threads.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "loom/base/status.h"
#include "loom/w2v/options.h"
#include "loom/w2v/tables.h"
#include "loom/w2v/vocab.h"

namespace loom::w2v {

inline constexpr int kMaxSentenceLength = 1000;

struct TrainContext {
  TrainOptions options;
  const Vocabulary* vocab = nullptr;
  SigmoidTable sigmoid;
  std::optional<NoiseSampler> noise;
  std::vector<float> keep;  // subsampling thresholds; empty when sample == 0
  HuffmanCodes huffman;     // empty unless hs

  // `vocab` must outlive the context. table_size is the unigram table size (1e8 = word2vec.c).
  static StatusOr<std::unique_ptr<TrainContext>> Create(const Vocabulary& vocab,
                                                        const TrainOptions& options,
                                                        int64_t table_size = kUnigramTableSize) {
    LOOM_RETURN_IF_ERROR(options.Validate());
    if (vocab.size() < 2) return InvalidArgumentError("vocabulary needs at least 2 entries");
    auto c = std::make_unique<TrainContext>();
    c->options = options;
    c->vocab = &vocab;
    if (options.negative > 0) c->noise.emplace(vocab, table_size);
    c->keep = SubsampleThresholds(vocab, options.sample);
    if (options.hs) c->huffman = BuildHuffman(vocab);
    return c;
  }
};

}  // namespace loom::w2v
