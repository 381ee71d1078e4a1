#include "loom/w2v/word_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "loom/base/strings.h"

namespace loom::w2v {

StatusOr<std::unique_ptr<WordReader>> WordReader::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFoundError(StrCat("corpus ", path, " does not exist"));
    return UnavailableError(StrCat("cannot open corpus ", path, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return InvalidArgumentError(StrCat("corpus ", path, " is not a regular file"));
  }
#ifdef POSIX_FADV_SEQUENTIAL
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
  return std::unique_ptr<WordReader>(new WordReader(path, fd, static_cast<uint64_t>(st.st_size)));
}

WordReader::WordReader(std::string path, int fd, uint64_t size)
    : path_(std::move(path)), fd_(fd), file_size_(size), buf_(1 << 20) {
  token_.reserve(kMaxTokenBytes + 1);
}

WordReader::~WordReader() { ::close(fd_); }

StatusOr<int> WordReader::GetByte() {
  if (pos_ == len_) {
    ssize_t n;
    do {
      n = ::read(fd_, buf_.data(), buf_.size());
    } while (n < 0 && errno == EINTR);
    if (n < 0)
      return UnavailableError(StrCat("reading corpus ", path_, " at byte ", consumed_, ": ",
                                     std::strerror(errno)));
    if (n == 0) return -1;
    len_ = static_cast<size_t>(n);
    pos_ = 0;
  }
  ++consumed_;
  return static_cast<unsigned char>(buf_[pos_++]);
}

StatusOr<bool> WordReader::Next(std::string_view* token) {
  if (pending_newline_) {
    pending_newline_ = false;
    *token = kEndOfSentence;
    return true;
  }
  token_.clear();
  while (true) {
    // Fast path: scan the buffer directly.
    if (pos_ < len_) {
      char c = buf_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\0') {
        ++pos_;
        ++consumed_;
        if (token_.size() < static_cast<size_t>(kMaxTokenBytes)) token_.push_back(c);
        continue;
      }
    }
    LOOM_ASSIGN_OR_RETURN(int ch, GetByte());
    if (ch < 0) return false;  // a token cut by end-of-file is dropped, as in word2vec.c
    if (ch == '\r') continue;
    if (ch == 0)
      return InvalidArgumentError(StrCat("corpus ", path_, " has a NUL byte at offset ",
                                         consumed_ - 1, " (binary input is not text)"));
    if (ch == ' ' || ch == '\t' || ch == '\n') {
      if (!token_.empty()) {
        if (ch == '\n') pending_newline_ = true;
        *token = token_;
        return true;
      }
      if (ch == '\n') {
        *token = kEndOfSentence;
        return true;
      }
      continue;
    }
    if (token_.size() < static_cast<size_t>(kMaxTokenBytes)) token_.push_back(static_cast<char>(ch));
  }
}

}  // namespace loom::w2v
