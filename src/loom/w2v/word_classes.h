// word2vec.c's `-classes K` output: K-means over the word vectors and a text file of
// "<word> <class>" lines (one per vocabulary entry, vocabulary order, '\n' ended).
// The clustering follows word2vec.c's fixed recipe so the classes match it word for word:
// word i starts in class i mod K; each of the 10 iterations recomputes every centroid as
// (sum of its members) / (members + 1) (word2vec.c seeds each count with 1), normalises it to
// unit length, and moves every word to the centroid of largest dot product (first on ties,
// starting from the threshold -10, so a word whose dots are all <= -10 goes to class 0).
// An empty class has a 0/0 = NaN centroid and never wins, as in word2vec.c. Arithmetic is
// float in word2vec.c's order (built with -ffp-contract=off).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loom/base/status.h"

namespace loom::w2v {

inline constexpr int kWordClassIterations = 10;

// `vectors` is rows x dim, row-major. InvalidArgument if classes < 1 or the shape is wrong.
StatusOr<std::vector<int32_t>> WordClasses(const std::vector<float>& vectors, int64_t rows,
                                           int64_t dim, int64_t classes,
                                           int iterations = kWordClassIterations);

// Writes "<word> <class>\n" per word (atomically).
Status WriteWordClasses(const std::string& path, const std::vector<std::string>& words,
                        const std::vector<int32_t>& classes);

}  // namespace loom::w2v
