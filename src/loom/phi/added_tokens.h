// Added tokens (special or not) are split out of the raw text before the tokenizer model
// runs, as HF tokenizers do: leftmost match, longest first at a position; lstrip / rstrip
// swallow the whitespace on that side (Phi-3's role tokens rstrip the newline after them).
// Thread-safety: pure function.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace loom::phi {

struct AddedToken {
  std::string content;
  int32_t id = 0;
  bool special = false, lstrip = false, rstrip = false;
};

struct TextSegment {
  bool is_added = false;
  int32_t id = -1;        // when is_added
  std::string_view text;  // ordinary text otherwise (may be empty)
};

// `added` must be sorted longest content first.
std::vector<TextSegment> SplitAddedTokens(std::string_view text,
                                          const std::vector<AddedToken>& added);

}  // namespace loom::phi
