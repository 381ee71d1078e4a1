// WordReader: word2vec.c's tokenisation (ReadWord) over a file streamed through a fixed
// buffer, so corpora larger than memory work. Tokens are byte strings split on space, tab and
// newline; CR is dropped; each newline yields "</s>"; a token keeps its first 98 bytes
// (word2vec.c's MAX_STRING 100); a token ended by end-of-file without a delimiter is dropped
// (word2vec.c reports EOF instead of returning it). A NUL byte is rejected as binary input.
// Thread-safety: none; one reader per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "loom/base/status.h"

namespace loom::w2v {

inline constexpr int kMaxTokenBytes = 98;
inline constexpr std::string_view kEndOfSentence = "</s>";

class WordReader {
 public:
  static StatusOr<std::unique_ptr<WordReader>> Open(const std::string& path);
  ~WordReader();
  WordReader(const WordReader&) = delete;
  WordReader& operator=(const WordReader&) = delete;

  // Sets *token to the next token (valid until the next call) and returns true, or returns
  // false at end of file. InvalidArgument on a NUL byte, Unavailable on a read error.
  StatusOr<bool> Next(std::string_view* token);

  const std::string& path() const { return path_; }
  uint64_t file_size() const { return file_size_; }
  uint64_t bytes_read() const { return consumed_; }

 private:
  WordReader(std::string path, int fd, uint64_t size);
  // Next byte or -1 at end of file.
  StatusOr<int> GetByte();

  std::string path_;
  int fd_;
  uint64_t file_size_;
  std::vector<char> buf_;
  size_t pos_ = 0, len_ = 0;
  uint64_t consumed_ = 0;  // bytes handed out by GetByte
  bool pending_newline_ = false;
  std::string token_;
};

}  // namespace loom::w2v
