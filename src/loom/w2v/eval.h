// Evaluation of word vectors:
// - EvaluateAnalogies: compute-accuracy.c's semantics and output lines (upper-cased entries of
//   at most 50 bytes, L2-normalised float rows, first match wins, a question with an unknown
//   word is counted in total but not seen, answer = argmax over all other words of
//   (b - a + c) . x with strict > from 0, sections 1-5 semantic, the rest syntactic). The
//   threshold is applied by reading only the first N vectors (ReadVectors max_words).
// - EvaluateWordSim: Spearman (average ranks for ties) and Pearson of cosine vs human score
//   over in-vocabulary pairs, plus the OOV ratio in percent (gensim's evaluate_word_pairs;
//   case-insensitive, the most frequent case variant wins).
// - Similar / Analogy: nearest neighbours by cosine (word-analogy.c's normalised query).
// Thread-safety: pure functions; EvaluateAnalogies uses the default thread pool.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loom/base/status.h"
#include "loom/w2v/vectors_io.h"

namespace loom::w2v {

struct AnalogyReport {
  int seen = 0, total = 0;
  int correct = 0, semantic_seen = 0, semantic_correct = 0, syntactic_seen = 0,
      syntactic_correct = 0;
  std::string text;  // compute-accuracy's stdout, line for line
  double accuracy() const { return seen ? 100.0 * correct / seen : 0.0; }
};
AnalogyReport EvaluateAnalogies(const WordVectors& vectors, std::string_view questions);

struct WordSimReport {
  int pairs = 0, oov = 0;
  double spearman = 0, pearson = 0, oov_ratio = 0;
};
StatusOr<WordSimReport> EvaluateWordSim(const WordVectors& vectors, std::string_view tsv,
                                        const std::string& source);

// Spearman rank correlation with average ranks for ties (exposed for its test).
double Spearman(const std::vector<double>& x, const std::vector<double>& y);

using Neighbours = std::vector<std::pair<std::string, float>>;
StatusOr<Neighbours> Similar(const WordVectors& vectors, const std::string& word, int k);
// The words nearest to b - a + c (a : b :: c : ?), excluding a, b and c.
StatusOr<Neighbours> Analogy(const WordVectors& vectors, const std::string& a, const std::string& b,
                             const std::string& c, int k);

}  // namespace loom::w2v
