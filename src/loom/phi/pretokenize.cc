// The GPT-2 and cl100k split patterns as scanners over code points; see pretokenize.h.
// Each alternative is tried in the regex's order at the current position and the first that
// matches wins, exactly as a backtracking regex engine does.
#include "loom/phi/pretokenize.h"

#include <cstddef>

#include "loom/phi/unicode.h"

namespace loom::phi {
namespace {

using Cps = std::vector<CodePoint>;

bool Other(char32_t c) { return !IsSpace(c) && !IsLetter(c) && !IsNumber(c); }
bool Newline(char32_t c) { return c == '\r' || c == '\n'; }

char32_t Lower(char32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

// 's 't 're 've 'm 'll 'd at i: returns code points consumed (0 if none).
size_t Contraction(const Cps& c, size_t i, bool ignore_case) {
  if (c[i].cp != '\'' || i + 1 >= c.size()) return 0;
  auto at = [&](size_t k) -> char32_t {
    if (k >= c.size()) return 0;
    return ignore_case ? Lower(c[k].cp) : c[k].cp;
  };
  const char32_t a = at(i + 1), b = at(i + 2);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

template <typename Pred>
size_t RunOf(const Cps& c, size_t i, Pred p) {
  size_t j = i;
  while (j < c.size() && p(c[j].cp)) ++j;
  return j;
}

// \s+(?!\S) then \s+ at i (c[i] is a space): returns the end index.
size_t Whitespace(const Cps& c, size_t i) {
  const size_t j = RunOf(c, i, IsSpace);
  if (j == c.size()) return j;           // run reaches the end: (?!\S) holds
  if (j - i >= 2) return j - 1;          // leave the last space to prefix the next word
  return j;                               // a single space: \s+ alone
}

std::vector<std::string_view> Slice(std::string_view text, const Cps& c,
                                    const std::vector<size_t>& cuts) {
  std::vector<std::string_view> out;
  size_t prev = 0;
  for (size_t cut : cuts) {
    const size_t b = c[prev].offset;
    const size_t e = cut < c.size() ? c[cut].offset : text.size();
    out.push_back(text.substr(b, e - b));
    prev = cut;
  }
  return out;
}

}  // namespace

std::vector<std::string_view> SplitGpt2(std::string_view text) {
  const Cps c = DecodeUtf8(text);
  std::vector<size_t> cuts;
  size_t i = 0;
  while (i < c.size()) {
    size_t end = i;
    if (size_t n = Contraction(c, i, false)) {
      end = i + n;
    } else {
      size_t k = i;
      if (c[k].cp == ' ' && k + 1 < c.size() && !IsSpace(c[k + 1].cp)) ++k;
      const char32_t x = c[k].cp;
      if (IsLetter(x)) end = RunOf(c, k, IsLetter);
      else if (IsNumber(x)) end = RunOf(c, k, IsNumber);
      else if (Other(x)) end = RunOf(c, k, Other);
      else end = Whitespace(c, i);
    }
    cuts.push_back(end);
    i = end;
  }
  return Slice(text, c, cuts);
}

std::vector<std::string_view> SplitCl100k(std::string_view text) {
  const Cps c = DecodeUtf8(text);
  std::vector<size_t> cuts;
  size_t i = 0;
  while (i < c.size()) {
    const char32_t x = c[i].cp;
    size_t end = 0;
    if (size_t n = Contraction(c, i, true)) {
      end = i + n;
    } else if (IsLetter(x)) {
      end = RunOf(c, i, IsLetter);
    } else if (!Newline(x) && !IsNumber(x) && i + 1 < c.size() && IsLetter(c[i + 1].cp)) {
      end = RunOf(c, i + 1, IsLetter);  // [^\r\n\p{L}\p{N}]\p{L}+
    } else if (IsNumber(x)) {
      end = i + 1;
      while (end < c.size() && end < i + 3 && IsNumber(c[end].cp)) ++end;
    } else if (Other(x) || (x == ' ' && i + 1 < c.size() && Other(c[i + 1].cp))) {
      // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
      end = RunOf(c, x == ' ' ? i + 1 : i, Other);
      end = RunOf(c, end, Newline);
    } else {
      // x is whitespace. \s*[\r\n]+ : up to just after the last newline in the run.
      const size_t j = RunOf(c, i, IsSpace);
      size_t last_nl = j;
      for (size_t k = i; k < j; ++k)
        if (Newline(c[k].cp)) last_nl = k;
      end = last_nl < j ? last_nl + 1 : Whitespace(c, i);
    }
    cuts.push_back(end);
    i = end;
  }
  return Slice(text, c, cuts);
}

}  // namespace loom::phi
