// Small string helpers: StrCat, StrSplit, strict number parsing, byte sizes ("1MB", "256KiB").
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "loom/base/status.h"

namespace loom {

template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

std::vector<std::string> StrSplit(std::string_view text, char sep, bool skip_empty = false);
std::string_view StripWhitespace(std::string_view text);

// Whole-string parses; errors name `what` (e.g. "--ranks").
StatusOr<int64_t> ParseInt(std::string_view text, std::string_view what);
StatusOr<double> ParseDouble(std::string_view text, std::string_view what);

// "4", "4B", "1KB"/"1K" (1000), "1KiB" (1024), up to "TB"/"TiB"; case-insensitive.
StatusOr<uint64_t> ParseByteSize(std::string_view text, std::string_view what);
// 1536 -> "1.5KiB"; exact multiples print without decimals ("256MiB").
std::string FormatBytes(uint64_t bytes);

}  // namespace loom
