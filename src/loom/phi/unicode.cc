// UTF-8 and Unicode classes; see unicode.h.
#include "loom/phi/unicode.h"

#include <algorithm>
#include <iterator>

namespace loom::phi {
namespace {

struct CodeRange {
  char32_t lo, hi;
};
#include "loom/phi/unicode_tables.inc"

template <size_t N>
bool InRanges(const CodeRange (&r)[N], char32_t c) {
  auto it = std::upper_bound(std::begin(r), std::end(r), c,
                             [](char32_t v, const CodeRange& x) { return v < x.lo; });
  return it != std::begin(r) && c <= std::prev(it)->hi;
}

}  // namespace

std::vector<CodePoint> DecodeUtf8(std::string_view s) {
  std::vector<CodePoint> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const uint8_t b = static_cast<uint8_t>(s[i]);
    uint32_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    char32_t cp = 0xFFFD;
    if (len == 0 || i + len > s.size()) {
      len = 1;
    } else {
      cp = len == 1 ? b : b & (0xFF >> (len + 1));
      for (uint32_t k = 1; k < len; ++k) {
        const uint8_t c = static_cast<uint8_t>(s[i + k]);
        if ((c >> 6) != 2) {
          cp = 0xFFFD;
          len = 1;
          break;
        }
        cp = (cp << 6) | (c & 0x3F);
      }
    }
    out.push_back({cp, static_cast<uint32_t>(i), len});
    i += len;
  }
  return out;
}

bool IsLetter(char32_t c) {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  return InRanges(kLetterRanges, c);
}

bool IsNumber(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  return InRanges(kNumberRanges, c);
}

bool IsSpace(char32_t c) {
  return (c >= 9 && c <= 13) || c == 32 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

void AppendUtf8(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

}  // namespace loom::phi
