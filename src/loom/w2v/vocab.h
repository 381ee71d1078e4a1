// Vocabulary: word2vec.c's vocabulary rules. `</s>` is entry 0 (one count per newline); the
// other entries are sorted by count descending with first-occurrence order among ties (a
// stable sort, what glibc's qsort does in practice); entries below min-count are dropped
// (never `</s>`); train_words is the sum of the kept counts including `</s>`. While counting,
// past `max_entries` distinct words the entries with count <= min_reduce are dropped and
// min_reduce grows (word2vec.c's ReduceVocab at 0.7 x 30M).
// Thread-safety: a built Vocabulary is immutable and may be shared.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "loom/base/status.h"

namespace loom::w2v {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept {
    // FNV-1a: fast for short tokens.
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    return static_cast<size_t>(h);
  }
};

class Vocabulary {
 public:
  Vocabulary() = default;
  // Builds from (word, count) pairs in first-occurrence order, entry 0 must be `</s>`:
  // sorts and applies min_count as word2vec.c's SortVocab.
  static Vocabulary FromCounts(std::vector<std::string> words, std::vector<int64_t> counts,
                               int64_t min_count);

  int64_t size() const { return static_cast<int64_t>(words_.size()); }
  const std::string& word(int64_t i) const { return words_[static_cast<size_t>(i)]; }
  int64_t count(int64_t i) const { return counts_[static_cast<size_t>(i)]; }
  const std::vector<std::string>& words() const { return words_; }
  const std::vector<int64_t>& counts() const { return counts_; }
  int64_t train_words() const { return train_words_; }
  // Index of `word`, or -1.
  int32_t Find(std::string_view word) const {
    auto it = index_.find(word);
    return it == index_.end() ? -1 : it->second;
  }

 private:
  std::vector<std::string> words_;
  std::vector<int64_t> counts_;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> index_;
  int64_t train_words_ = 0;
};

struct VocabOptions {
  int64_t min_count = 5;
  int64_t max_entries = 21000000;  // word2vec.c: 0.7 x vocab_hash_size
};

// Counts the corpus at `path` (streamed). InvalidArgument for an empty corpus (no tokens), a
// NUL byte, or a vocabulary with fewer than 2 entries after min-count.
StatusOr<Vocabulary> LearnVocab(const std::string& path, const VocabOptions& options);

// Writes `word count\n` per entry (word2vec.c's -save-vocab), atomically.
Status SaveVocab(const Vocabulary& vocab, const std::string& path);
// Reads a -save-vocab file, re-sorts and re-applies min_count (word2vec.c's -read-vocab).
StatusOr<Vocabulary> ReadVocab(const std::string& path, int64_t min_count);
// Parses vocabulary text (ReadVocab's core; fuzzable). `source` names it in errors.
StatusOr<Vocabulary> ParseVocab(std::string_view text, int64_t min_count,
                                const std::string& source);

}  // namespace loom::w2v
