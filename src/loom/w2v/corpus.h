// The encoded corpus: one streaming pass turns the text into a file of uint32 vocabulary ids
// (`</s>` = 0 per newline, OOV tokens dropped, as word2vec.c's training loop skips them
// without counting), which training reads through mmap. Nothing is held in memory beyond a
// write buffer, so corpora larger than RAM work.
// Thread-safety: a TokenFile is immutable; share it between threads.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "loom/base/file_io.h"
#include "loom/base/status.h"
#include "loom/w2v/vocab.h"

namespace loom::w2v {

// Encodes `text_path` into `token_path` (written atomically). Returns the token count.
StatusOr<int64_t> EncodeCorpus(const std::string& text_path, const Vocabulary& vocab,
                               const std::string& token_path);

class TokenFile {
 public:
  static StatusOr<std::unique_ptr<TokenFile>> Open(const std::string& path);
  std::span<const uint32_t> tokens() const { return tokens_; }

 private:
  std::unique_ptr<MappedFile> file_;
  std::span<const uint32_t> tokens_;
};

}  // namespace loom::w2v
