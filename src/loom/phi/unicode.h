// UTF-8 decoding and the Unicode classes the pre-tokenizers need (\p{L}, \p{N}, \s as the
// White_Space property), from generated range tables (unicode_tables.inc).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loom::phi {

// Code points of `text` with their byte offsets; an invalid byte decodes as one code point
// U+FFFD spanning that byte (the bytes themselves are kept by callers that slice by offset).
struct CodePoint {
  char32_t cp;
  uint32_t offset;  // byte offset of the first byte
  uint32_t length;  // bytes
};
std::vector<CodePoint> DecodeUtf8(std::string_view text);

bool IsLetter(char32_t c);
bool IsNumber(char32_t c);
bool IsSpace(char32_t c);

void AppendUtf8(char32_t c, std::string& out);

}  // namespace loom::phi
