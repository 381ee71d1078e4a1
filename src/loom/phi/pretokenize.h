// Hand-written pre-tokenizers equivalent to the regexes byte-level BPE tokenizers split with
// (std::regex has no \p{L}, \p{N} or lookahead):
//   GPT-2 / CodeGen (phi-1, phi-1.5, phi-2):
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   cl100k (phi-4):
//     (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//     \s*[\r\n]+|\s+(?!\S)|\s+
// Each returns the pieces in order; concatenated they are the input (invalid UTF-8 bytes are
// single "other" characters).
// Thread-safety: pure functions.
#pragma once

#include <string_view>
#include <vector>

namespace loom::phi {

std::vector<std::string_view> SplitGpt2(std::string_view text);
std::vector<std::string_view> SplitCl100k(std::string_view text);

}  // namespace loom::phi
