#include "loom/w2v/vectors_io.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "loom/base/file_io.h"
#include "loom/base/strings.h"

namespace loom::w2v {

std::string FormatVectors(const std::vector<std::string>& words, const float* data, int64_t dim,
                          bool binary) {
  std::string out = StrCat(words.size(), " ", dim, "\n");
  char buf[64];
  for (size_t w = 0; w < words.size(); ++w) {
    out += words[w];
    out += ' ';
    const float* r = data + static_cast<int64_t>(w) * dim;
    if (binary) {
      out.append(reinterpret_cast<const char*>(r), static_cast<size_t>(dim) * sizeof(float));
    } else {
      for (int64_t j = 0; j < dim; ++j) {
        int n = std::snprintf(buf, sizeof(buf), "%lf ", static_cast<double>(r[j]));
        out.append(buf, static_cast<size_t>(n));
      }
    }
    out += '\n';
  }
  return out;
}

Status WriteVectors(const std::string& path, const std::vector<std::string>& words,
                    const float* data, int64_t dim, bool binary) {
  return WriteFileAtomically(path, FormatVectors(words, data, dim, binary));
}

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

struct Header {
  int64_t words = 0, dim = 0;
  size_t offset = 0;  // first byte after the header line
};

StatusOr<Header> ParseHeader(std::string_view s, const std::string& source) {
  size_t nl = s.find('\n');
  if (nl == std::string_view::npos || nl > 64)
    return DataLossError(StrCat(source, ": missing 'V d' header line"));
  std::string_view line = s.substr(0, nl);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos)
    return DataLossError(StrCat(source, ": header '", line, "' is not 'V d'"));
  auto v = ParseInt(line.substr(0, sp), "vocabulary size");
  auto d = ParseInt(line.substr(sp + 1), "dimension");
  if (!v.ok() || !d.ok() || *v < 1 || *d < 1 || *d > 100000)
    return DataLossError(StrCat(source, ": header '", line, "' is not two positive integers (d <= 100000)"));
  return Header{*v, *d, nl + 1};
}

StatusOr<WordVectors> ParseBinary(std::string_view s, const Header& h, const std::string& source,
                                  int64_t rows) {
  // Each row needs at least 1 + 4d bytes: reject impossible headers before allocating.
  if (static_cast<uint64_t>(rows) * static_cast<uint64_t>(4 * h.dim + 1) > s.size())
    return DataLossError(StrCat(source, ": header promises ", rows, " x ", h.dim,
                                " binary floats but the file has ", s.size(), " bytes (truncated?)"));
  WordVectors out;
  out.dim = h.dim;
  out.words.reserve(static_cast<size_t>(rows));
  out.data.resize(static_cast<size_t>(rows * h.dim));
  size_t pos = h.offset;
  const size_t row_bytes = static_cast<size_t>(h.dim) * sizeof(float);
  for (int64_t r = 0; r < rows; ++r) {
    while (pos < s.size() && s[pos] == '\n') ++pos;
    size_t sp = s.find(' ', pos);
    if (sp == std::string_view::npos || sp == pos)
      return DataLossError(StrCat(source, ": row ", r, " at byte ", pos, ": missing word"));
    std::string_view word = s.substr(pos, sp - pos);
    if (word.find('\n') != std::string_view::npos)
      return DataLossError(StrCat(source, ": row ", r, " at byte ", pos, ": word contains a newline"));
    pos = sp + 1;
    if (s.size() - pos < row_bytes)
      return DataLossError(StrCat(source, ": row ", r, " ('", word, "') at byte ", pos,
                                  ": truncated (", s.size() - pos, " of ", row_bytes, " bytes)"));
    std::memcpy(out.data.data() + r * h.dim, s.data() + pos, row_bytes);
    out.words.emplace_back(word);
    pos += row_bytes;
  }
  return out;
}

StatusOr<WordVectors> ParseText(std::string_view s, const Header& h, const std::string& source,
                                int64_t rows) {
  // A text row is at least "w" + d x " 0" + "\n".
  if (static_cast<uint64_t>(rows) * static_cast<uint64_t>(2 * h.dim + 2) > s.size() + 2)
    return DataLossError(StrCat(source, ": header promises ", rows, " x ", h.dim,
                                " text values but the file has ", s.size(), " bytes (truncated?)"));
  WordVectors out;
  out.dim = h.dim;
  out.words.reserve(static_cast<size_t>(rows));
  out.data.resize(static_cast<size_t>(rows * h.dim));
  size_t pos = h.offset;
  char num[64];
  for (int64_t r = 0; r < rows; ++r) {
    while (pos < s.size() && IsSpace(s[pos])) ++pos;
    size_t end = pos;
    while (end < s.size() && !IsSpace(s[end])) ++end;
    if (end == pos || end == s.size())
      return DataLossError(StrCat(source, ": row ", r, " at byte ", pos, ": truncated (no word)"));
    out.words.emplace_back(s.substr(pos, end - pos));
    pos = end;
    for (int64_t j = 0; j < h.dim; ++j) {
      while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
      size_t e = pos;
      while (e < s.size() && !IsSpace(s[e])) ++e;
      if (e == pos || e - pos >= sizeof(num))
        return DataLossError(StrCat(source, ": row ", r, " at byte ", pos, ": expected value ",
                                    j + 1, " of ", h.dim, " (truncated or short row)"));
      std::memcpy(num, s.data() + pos, e - pos);
      num[e - pos] = 0;
      char* stop = nullptr;
      errno = 0;
      float v = std::strtof(num, &stop);
      if (stop != num + (e - pos))
        return DataLossError(StrCat(source, ": row ", r, " at byte ", pos, ": '", std::string_view(num),
                                    "' is not a number"));
      out.data[static_cast<size_t>(r * h.dim + j)] = v;
      pos = e;
    }
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t' || s[pos] == '\r')) ++pos;
    if (pos == s.size())
      return DataLossError(StrCat(source, ": row ", r, " at byte ", pos, ": no newline (truncated)"));
    if (s[pos] != '\n')
      return DataLossError(StrCat(source, ": row ", r, " at byte ", pos, ": more than ", h.dim, " values"));
  }
  return out;
}

}  // namespace

StatusOr<WordVectors> ParseVectors(std::string_view bytes, VectorFormat format,
                                   const std::string& source, int64_t max_words) {
  LOOM_ASSIGN_OR_RETURN(Header h, ParseHeader(bytes, source));
  int64_t rows = h.words;
  if (max_words > 0 && rows > max_words) rows = max_words;
  if (format == VectorFormat::kBinary) return ParseBinary(bytes, h, source, rows);
  if (format == VectorFormat::kText) return ParseText(bytes, h, source, rows);
  auto bin = ParseBinary(bytes, h, source, rows);
  if (bin.ok()) {
    // A text file can parse as binary only by accident; trust binary when it also consumed
    // whole rows ending in newlines, which the check below approximates: text must fail.
    auto txt = ParseText(bytes, h, source, rows);
    if (!txt.ok()) return bin;
    return txt;
  }
  auto txt = ParseText(bytes, h, source, rows);
  if (txt.ok()) return txt;
  return DataLossError(StrCat(bin.status().message(), "; as text: ", txt.status().message()));
}

StatusOr<WordVectors> ReadVectors(const std::string& path, VectorFormat format, int64_t max_words) {
  LOOM_ASSIGN_OR_RETURN(auto file, MappedFile::Open(path));
  return ParseVectors(file->view(), format, path, max_words);
}

}  // namespace loom::w2v
