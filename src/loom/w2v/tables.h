// The lookup tables of word2vec.c, reproduced to the bit:
// - SigmoidTable: 1000 entries, entry i = sigma((2i/1000 - 1) * 6) computed in float as
//   word2vec.c does; looked up at index (int)((f + 6) * 83) where 83 is the integer quotient
//   1000/6/2 (so the table is read at a point scaled by ~0.996; brief 3.1).
// - NoiseSampler: word2vec.c's unigram table (count^0.75, 1e8 entries, filled by walking the
//   cumulative share) without materialising it: the table is a step function, so it stores
//   each word's last table index and answers table[i] by a bucketed search (exact, 0.5 MB
//   instead of 400 MB).
// - SubsampleThresholds: per word keep threshold `ran` in word2vec.c's float arithmetic.
// - HuffmanCodes: word2vec.c's two-queue Huffman tree (second-picked child gets bit 1);
//   codes and inner-node points per word, root first.
// Thread-safety: immutable after construction.
#pragma once

#include <cstdint>
#include <vector>

#include "loom/w2v/vocab.h"

namespace loom::w2v {

inline constexpr int kExpTableSize = 1000;
inline constexpr int kMaxExp = 6;

class SigmoidTable {
 public:
  SigmoidTable();
  // Valid for -6 <= f <= 6 (callers clip or skip outside, as word2vec.c). A NaN, which passes
  // both of the callers' range tests, returns NaN instead of indexing the table with the
  // undefined int conversion of NaN (word2vec.c reads out of bounds there): a diverged model
  // then stays NaN and CheckFinite reports it, instead of crashing the trainer.
  float operator()(float f) const {
    if (f != f) return f;
    return table_[static_cast<int>((f + kMaxExp) * (kExpTableSize / kMaxExp / 2))];
  }
  const float* data() const { return table_; }

 private:
  float table_[kExpTableSize + 1];
};

inline constexpr int64_t kUnigramTableSize = 100000000;

class NoiseSampler {
 public:
  NoiseSampler(const Vocabulary& vocab, int64_t table_size = kUnigramTableSize);
  // table[i] for 0 <= i < table_size.
  int32_t Entry(int64_t i) const;
  // word2vec.c's draw from an LCG value: table[(next >> 16) % table_size].
  int32_t Draw(uint64_t next_random) const {
    return Entry(static_cast<int64_t>((next_random >> 16) % static_cast<uint64_t>(table_size_)));
  }
  int64_t table_size() const { return table_size_; }

  // The literal 1e8-style table (for tests with a small table_size).
  static std::vector<int32_t> Materialize(const Vocabulary& vocab, int64_t table_size);

 private:
  int64_t table_size_;
  int32_t vocab_size_;
  // Entry(i) is the first word k with last_[k] >= i. The table's index range is cut into at
  // most 2^16 buckets (200 KB of starts: stays in L2, where 2^20 buckets, 3 MB, missed it on
  // every draw); bucket b's entries hold words bucket_first_[b] .. bucket_first_[b + 1], found
  // by a branch-free binary search over last_ (none for the buckets inside one frequent word's
  // range, where most draws land).
  std::vector<int64_t> last_;          // last_[k] = last table index holding word k
  std::vector<int32_t> bucket_first_;  // word at the start of each bucket, then vocab_size - 1
  int bucket_shift_;
};

// keep threshold per word: a token is dropped when threshold < u, u = (next & 0xFFFF)/65536.
// Empty when sample <= 0.
std::vector<float> SubsampleThresholds(const Vocabulary& vocab, float sample);

struct HuffmanCodes {
  std::vector<std::vector<uint8_t>> code;   // per word, root first
  std::vector<std::vector<int32_t>> point;  // inner node (syn1 row) per step, root first
};
HuffmanCodes BuildHuffman(const Vocabulary& vocab);

}  // namespace loom::w2v
