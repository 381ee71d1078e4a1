// Word vector files in word2vec.c's formats (docs/formats/word2vec-vectors.md): header
// "V d\n", then per word "word " + d float32 (binary) or d "%lf " values (text) + "\n".
// Written bit-compatibly with word2vec.c; the reader also takes gensim's text variant.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "loom/base/status.h"

namespace loom::w2v {

struct WordVectors {
  int64_t dim = 0;
  std::vector<std::string> words;
  std::vector<float> data;  // words.size() x dim, row-major
  const float* row(int64_t i) const { return data.data() + i * dim; }
};

enum class VectorFormat { kAuto, kText, kBinary };

// Serialises `vectors` exactly as word2vec.c's TrainModel writes them.
std::string FormatVectors(const std::vector<std::string>& words, const float* data, int64_t dim,
                          bool binary);
Status WriteVectors(const std::string& path, const std::vector<std::string>& words,
                    const float* data, int64_t dim, bool binary);

// Parses a vector file's bytes. `max_words` > 0 keeps only the first max_words rows (as
// compute-accuracy's threshold). DataLoss for a truncated or malformed file, naming `source`,
// the row and the byte offset; kAuto tries binary first, then text.
StatusOr<WordVectors> ParseVectors(std::string_view bytes, VectorFormat format,
                                   const std::string& source, int64_t max_words = 0);
StatusOr<WordVectors> ReadVectors(const std::string& path, VectorFormat format = VectorFormat::kAuto,
                                  int64_t max_words = 0);

}  // namespace loom::w2v
