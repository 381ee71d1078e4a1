#include "loom/w2v/corpus.h"

#include <cstring>
#include <vector>

#include "loom/base/strings.h"
#include "loom/w2v/word_reader.h"

namespace loom::w2v {

StatusOr<int64_t> EncodeCorpus(const std::string& text_path, const Vocabulary& vocab,
                               const std::string& token_path) {
  LOOM_ASSIGN_OR_RETURN(auto reader, WordReader::Open(text_path));
  LOOM_ASSIGN_OR_RETURN(auto writer, AtomicFileWriter::Open(token_path));
  std::vector<uint32_t> buf;
  buf.reserve(1 << 16);
  int64_t n = 0;
  std::string_view token;
  while (true) {
    LOOM_ASSIGN_OR_RETURN(bool more, reader->Next(&token));
    if (!more) break;
    int32_t id = vocab.Find(token);
    if (id < 0) continue;
    buf.push_back(static_cast<uint32_t>(id));  // little-endian hosts only (x86, arm64)
    if (buf.size() == buf.capacity()) {
      LOOM_RETURN_IF_ERROR(writer->Append(std::string_view(
          reinterpret_cast<const char*>(buf.data()), buf.size() * sizeof(uint32_t))));
      n += static_cast<int64_t>(buf.size());
      buf.clear();
    }
  }
  LOOM_RETURN_IF_ERROR(writer->Append(std::string_view(
      reinterpret_cast<const char*>(buf.data()), buf.size() * sizeof(uint32_t))));
  n += static_cast<int64_t>(buf.size());
  LOOM_RETURN_IF_ERROR(writer->Commit());
  return n;
}

StatusOr<std::unique_ptr<TokenFile>> TokenFile::Open(const std::string& path) {
  auto tf = std::make_unique<TokenFile>();
  LOOM_ASSIGN_OR_RETURN(tf->file_, MappedFile::Open(path));
  if (tf->file_->size() % sizeof(uint32_t) != 0)
    return DataLossError(StrCat("token file ", path, " has ", tf->file_->size(),
                                " bytes, not a multiple of 4"));
  tf->tokens_ = {reinterpret_cast<const uint32_t*>(tf->file_->bytes().data()),
                 tf->file_->size() / sizeof(uint32_t)};
  return tf;
}

}  // namespace loom::w2v
