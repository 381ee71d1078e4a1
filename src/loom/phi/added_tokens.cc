// Added-token splitting; see added_tokens.h.
#include "loom/phi/added_tokens.h"

namespace loom::phi {
namespace {
bool Space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
}  // namespace

std::vector<TextSegment> SplitAddedTokens(std::string_view text,
                                          const std::vector<AddedToken>& added) {
  std::vector<TextSegment> out;
  size_t pos = 0, start = 0;  // [start, pos) is ordinary text not yet emitted
  while (pos < text.size()) {
    const AddedToken* hit = nullptr;
    for (const AddedToken& a : added)
      if (text.compare(pos, a.content.size(), a.content) == 0) {
        hit = &a;
        break;
      }
    if (!hit) {
      ++pos;
      continue;
    }
    size_t left_end = pos;
    if (hit->lstrip)
      while (left_end > start && Space(text[left_end - 1])) --left_end;
    if (left_end > start) out.push_back({false, -1, text.substr(start, left_end - start)});
    out.push_back({true, hit->id, {}});
    pos += hit->content.size();
    if (hit->rstrip)
      while (pos < text.size() && Space(text[pos])) ++pos;
    start = pos;
  }
  if (start < text.size()) out.push_back({false, -1, text.substr(start)});
  return out;
}

}  // namespace loom::phi
