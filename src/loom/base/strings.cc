#include "loom/base/strings.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>

namespace loom {

std::vector<std::string> StrSplit(std::string_view text, char sep, bool skip_empty) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = text.find(sep, start);
    std::string_view piece = text.substr(start, pos == std::string_view::npos ? text.npos : pos - start);
    if (!(skip_empty && piece.empty())) out.emplace_back(piece);
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

std::string_view StripWhitespace(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

StatusOr<int64_t> ParseInt(std::string_view text, std::string_view what) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
    return InvalidArgumentError(StrCat(what, ": expected an integer, got '", text, "'"));
  return value;
}

StatusOr<double> ParseDouble(std::string_view text, std::string_view what) {
  double value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(value))
    return InvalidArgumentError(StrCat(what, ": expected a number, got '", text, "'"));
  return value;
}

StatusOr<uint64_t> ParseByteSize(std::string_view text, std::string_view what) {
  std::string_view t = StripWhitespace(text);
  size_t i = 0;
  while (i < t.size() && (std::isdigit(static_cast<unsigned char>(t[i])) || t[i] == '.')) ++i;
  auto bad = [&] {
    return InvalidArgumentError(StrCat(what, ": expected a size like 4, 64KB, 1MiB or 2GB, got '",
                                       text, "'"));
  };
  if (i == 0) return bad();
  double number = 0;
  auto [ptr, ec] = std::from_chars(t.data(), t.data() + i, number);
  if (ec != std::errc() || ptr != t.data() + i) return bad();
  std::string unit;
  for (char c : t.substr(i)) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double mult;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb") mult = 1e3;
  else if (unit == "kib") mult = 1024.0;
  else if (unit == "m" || unit == "mb") mult = 1e6;
  else if (unit == "mib") mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb") mult = 1e9;
  else if (unit == "gib") mult = 1024.0 * 1024 * 1024;
  else if (unit == "t" || unit == "tb") mult = 1e12;
  else if (unit == "tib") mult = 1024.0 * 1024 * 1024 * 1024;
  else return bad();
  double bytes = number * mult;
  if (!std::isfinite(bytes) || bytes > 1.8e19 || bytes != std::floor(bytes)) return bad();
  return static_cast<uint64_t>(bytes);
}

std::string FormatBytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024.0 && u < 4) {
    v /= 1024.0;
    ++u;
  }
  char buf[32];
  if (v == std::floor(v)) std::snprintf(buf, sizeof(buf), "%.0f%s", v, kUnits[u]);
  else std::snprintf(buf, sizeof(buf), "%.1f%s", v, kUnits[u]);
  return buf;
}

}  // namespace loom
