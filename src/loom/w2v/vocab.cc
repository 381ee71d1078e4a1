#include "loom/w2v/vocab.h"

#include <algorithm>
#include <numeric>

#include "loom/base/file_io.h"
#include "loom/base/strings.h"
#include "loom/w2v/word_reader.h"

namespace loom::w2v {

Vocabulary Vocabulary::FromCounts(std::vector<std::string> words, std::vector<int64_t> counts,
                                  int64_t min_count) {
  LOOM_CHECK(!words.empty() && words[0] == kEndOfSentence) << "entry 0 must be </s>";
  std::vector<size_t> order(words.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin() + 1, order.end(),
                   [&](size_t a, size_t b) { return counts[a] > counts[b]; });
  Vocabulary v;
  for (size_t k = 0; k < order.size(); ++k) {
    size_t i = order[k];
    if (k != 0 && counts[i] < min_count) continue;
    v.index_.emplace(words[i], static_cast<int32_t>(v.words_.size()));
    v.words_.push_back(std::move(words[i]));
    v.counts_.push_back(counts[i]);
    v.train_words_ += counts[i];
  }
  return v;
}

namespace {

Status CheckUsable(const Vocabulary& v, const std::string& source) {
  if (v.size() < 2)
    return InvalidArgumentError(StrCat(source, ": vocabulary has ", v.size(),
                                       " entries after min-count; need at least one word "
                                       "besides </s> (lower -min-count or use a larger corpus)"));
  return OkStatus();
}

}  // namespace

StatusOr<Vocabulary> LearnVocab(const std::string& path, const VocabOptions& options) {
  LOOM_ASSIGN_OR_RETURN(auto reader, WordReader::Open(path));
  std::vector<std::string> words = {std::string(kEndOfSentence)};
  std::vector<int64_t> counts = {0};
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> index;
  index.emplace(std::string(kEndOfSentence), 0);
  int64_t min_reduce = 1, tokens = 0;
  std::string_view token;
  while (true) {
    LOOM_ASSIGN_OR_RETURN(bool more, reader->Next(&token));
    if (!more) break;
    ++tokens;
    auto it = index.find(token);
    if (it != index.end()) {
      ++counts[static_cast<size_t>(it->second)];
      continue;
    }
    index.emplace(std::string(token), static_cast<int32_t>(words.size()));
    words.emplace_back(token);
    counts.push_back(1);
    if (static_cast<int64_t>(words.size()) > options.max_entries) {
      // word2vec.c's ReduceVocab, keeping </s> pinned at 0 and the remaining order.
      size_t kept = 1;
      for (size_t i = 1; i < words.size(); ++i) {
        if (counts[i] > min_reduce) {
          if (kept != i) words[kept] = std::move(words[i]);  // no self-move
          counts[kept] = counts[i];
          ++kept;
        }
      }
      words.resize(kept);
      counts.resize(kept);
      index.clear();
      for (size_t i = 0; i < words.size(); ++i) index.emplace(words[i], static_cast<int32_t>(i));
      ++min_reduce;
    }
  }
  if (tokens == 0)
    return InvalidArgumentError(StrCat("corpus ", path, " is empty (no tokens)"));
  Vocabulary v = Vocabulary::FromCounts(std::move(words), std::move(counts), options.min_count);
  LOOM_RETURN_IF_ERROR(CheckUsable(v, path));
  return v;
}

Status SaveVocab(const Vocabulary& vocab, const std::string& path) {
  std::string out;
  for (int64_t i = 0; i < vocab.size(); ++i) out += StrCat(vocab.word(i), " ", vocab.count(i), "\n");
  return WriteFileAtomically(path, out);
}

StatusOr<Vocabulary> ParseVocab(std::string_view text, int64_t min_count,
                                const std::string& source) {
  std::vector<std::string> words;
  std::vector<int64_t> counts;
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> seen;
  size_t pos = 0, line = 0;
  bool have_eos = false;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    pos = end + 1;
    ++line;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty()) continue;
    size_t sp = l.rfind(' ');
    if (sp == std::string_view::npos || sp == 0)
      return DataLossError(StrCat(source, ":", line, ": expected 'word count'"));
    std::string_view word = l.substr(0, sp);
    if (word.find_first_of(std::string_view(" \t\0", 3)) != std::string_view::npos)
      return DataLossError(StrCat(source, ":", line, ": word contains whitespace or NUL"));
    auto count = ParseInt(l.substr(sp + 1), StrCat(source, ":", line, " count"));
    if (!count.ok()) return DataLossError(count.status().message());
    if (*count < 0) return DataLossError(StrCat(source, ":", line, ": negative count"));
    if (seen.count(word)) return DataLossError(StrCat(source, ":", line, ": duplicate word"));
    seen.emplace(std::string(word), 0);
    if (word == kEndOfSentence) {
      // </s> is pinned at entry 0 whatever its position in the file.
      words.insert(words.begin(), std::string(word));
      counts.insert(counts.begin(), *count);
      have_eos = true;
    } else {
      words.emplace_back(word);
      counts.push_back(*count);
    }
  }
  if (!have_eos) {
    words.insert(words.begin(), std::string(kEndOfSentence));
    counts.insert(counts.begin(), 0);
  }
  Vocabulary v = Vocabulary::FromCounts(std::move(words), std::move(counts), min_count);
  LOOM_RETURN_IF_ERROR(CheckUsable(v, source));
  return v;
}

StatusOr<Vocabulary> ReadVocab(const std::string& path, int64_t min_count) {
  LOOM_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseVocab(text, min_count, path);
}

}  // namespace loom::w2v
