#include "loom/w2v/word_classes.h"

#include <cmath>

#include "loom/base/file_io.h"
#include "loom/base/strings.h"

namespace loom::w2v {

StatusOr<std::vector<int32_t>> WordClasses(const std::vector<float>& vectors, int64_t rows,
                                           int64_t dim, int64_t classes, int iterations) {
  if (classes < 1) return InvalidArgumentError(StrCat("-classes ", classes, ": must be >= 1"));
  if (classes > INT32_MAX) return InvalidArgumentError(StrCat("-classes ", classes, ": too many"));
  if (rows < 0 || dim < 1 || static_cast<int64_t>(vectors.size()) != rows * dim)
    return InvalidArgumentError(StrCat("word classes: ", vectors.size(), " floats are not ", rows, " x ", dim));
  const size_t d = static_cast<size_t>(dim), k = static_cast<size_t>(classes);
  std::vector<int32_t> cls(static_cast<size_t>(rows));
  for (int64_t w = 0; w < rows; ++w) cls[static_cast<size_t>(w)] = static_cast<int32_t>(w % classes);
  std::vector<float> cent(k * d);
  std::vector<int64_t> members(k);
  for (int it = 0; it < iterations; ++it) {
    std::fill(cent.begin(), cent.end(), 0.0f);
    std::fill(members.begin(), members.end(), 1);  // word2vec.c's count seed
    for (size_t w = 0; w < cls.size(); ++w) {
      float* c = cent.data() + static_cast<size_t>(cls[w]) * d;
      const float* v = vectors.data() + w * d;
      for (size_t j = 0; j < d; ++j) c[j] += v[j];
      ++members[static_cast<size_t>(cls[w])];
    }
    for (size_t c = 0; c < k; ++c) {
      float* ce = cent.data() + c * d;
      const float n = static_cast<float>(members[c]);
      float norm = 0;
      for (size_t j = 0; j < d; ++j) {
        ce[j] /= n;
        norm += ce[j] * ce[j];
      }
      norm = static_cast<float>(std::sqrt(static_cast<double>(norm)));
      for (size_t j = 0; j < d; ++j) ce[j] /= norm;
    }
    for (size_t w = 0; w < cls.size(); ++w) {
      const float* v = vectors.data() + w * d;
      float best = -10;
      int32_t best_id = 0;
      for (size_t c = 0; c < k; ++c) {
        const float* ce = cent.data() + c * d;
        float x = 0;
        for (size_t j = 0; j < d; ++j) x += ce[j] * v[j];
        if (x > best) {
          best = x;
          best_id = static_cast<int32_t>(c);
        }
      }
      cls[w] = best_id;
    }
  }
  return cls;
}

Status WriteWordClasses(const std::string& path, const std::vector<std::string>& words,
                        const std::vector<int32_t>& classes) {
  if (words.size() != classes.size())
    return InvalidArgumentError(StrCat("word classes: ", words.size(), " words but ", classes.size(), " classes"));
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) out += StrCat(words[i], " ", classes[i], "\n");
  return WriteFileAtomically(path, out).WithContext(path);
}

}  // namespace loom::w2v
