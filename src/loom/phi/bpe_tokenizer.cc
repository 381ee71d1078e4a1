// Byte-level BPE from tokenizer.json; see tokenizer.h.
#include "loom/phi/tokenizer.h"

#include <algorithm>
#include <array>
#include <climits>
#include <filesystem>

#include "loom/base/strings.h"
#include "loom/phi/pretokenize.h"
#include "loom/phi/unicode.h"

namespace loom::phi {
namespace {

// GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
// U+0100.. in byte order, so every byte string becomes printable text.
struct ByteMap {
  std::array<std::string, 256> to_symbol;
  std::unordered_map<char32_t, uint8_t> from_symbol;
  ByteMap() {
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      const char32_t cp = keep ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
      AppendUtf8(cp, to_symbol[b]);
      from_symbol[cp] = static_cast<uint8_t>(b);
    }
  }
};
const ByteMap& Bytes() {
  static const ByteMap* m = new ByteMap();
  return *m;
}

bool Contains(std::string_view hay, std::string_view needle) {
  return hay.find(needle) != std::string_view::npos;
}

}  // namespace

const std::string& ByteToSymbol(uint8_t b) { return Bytes().to_symbol[b]; }

StatusOr<std::unique_ptr<BpeTokenizer>> BpeTokenizer::FromFile(const std::string& path) {
  LOOM_ASSIGN_OR_RETURN(JsonValue doc, ReadJsonFile(path));
  return FromJson(doc);
}

StatusOr<std::unique_ptr<BpeTokenizer>> BpeTokenizer::FromJson(const JsonValue& doc) {
  Vocab v;
  v.source = "tokenizer.json";
  LOOM_ASSIGN_OR_RETURN(JsonValue model, doc.Get("model"));
  LOOM_ASSIGN_OR_RETURN(std::string type, model.GetString("type", "BPE"));
  if (type != "BPE") return InvalidArgumentError(StrCat(model.path(), ": model type '", type,
                                                        "' is not BPE"));
  // Pre-tokenizer: ByteLevel (GPT-2 regex) or Sequence[Split(cl100k), ByteLevel(no regex)].
  auto pre = doc.Find("pre_tokenizer");
  if (!pre || pre->IsNull())
    return InvalidArgumentError("tokenizer.json: no pre_tokenizer; only byte-level BPE is "
                                "supported (use tokenizer.model for SentencePiece files)");
  const std::string pre_text = pre->raw().dump();
  if (!Contains(pre_text, "ByteLevel"))
    return InvalidArgumentError("tokenizer.json: pre_tokenizer is not byte-level");
  v.split = Contains(pre_text, "Split") && Contains(pre_text, "\\\\p{N}{1,3}") ? Split::kCl100k
                                                                               : Split::kGpt2;
  v.add_prefix_space = Contains(pre_text, "\"add_prefix_space\":true");
  LOOM_ASSIGN_OR_RETURN(JsonValue vocab, model.Get("vocab"));
  LOOM_ASSIGN_OR_RETURN(auto entries, vocab.Members());
  for (const auto& [tok, id] : entries) {
    LOOM_ASSIGN_OR_RETURN(int64_t x, id.AsInt());
    if (x < 0 || x >= (1 << 24)) return InvalidArgumentError(StrCat(id.path(), ": bad id"));
    if (static_cast<size_t>(x) >= v.tokens.size()) v.tokens.resize(static_cast<size_t>(x) + 1);
    v.tokens[static_cast<size_t>(x)] = tok;
  }
  LOOM_ASSIGN_OR_RETURN(JsonValue merges, model.Get("merges"));
  LOOM_ASSIGN_OR_RETURN(auto merge_list, merges.Elements());
  v.merges.reserve(merge_list.size());
  for (const JsonValue& m : merge_list) {
    if (m.IsString()) {
      LOOM_ASSIGN_OR_RETURN(std::string key, m.AsString());  // "left right"
      v.merges.push_back(std::move(key));
      continue;
    }
    if (!m.IsArray() || m.size() != 2)
      return InvalidArgumentError(StrCat(m.path(), ": a merge is \"a b\" or [a, b]"));
    LOOM_ASSIGN_OR_RETURN(JsonValue left, m.At(0));
    LOOM_ASSIGN_OR_RETURN(JsonValue right, m.At(1));
    LOOM_ASSIGN_OR_RETURN(std::string a, left.AsString());
    LOOM_ASSIGN_OR_RETURN(std::string b, right.AsString());
    v.merges.push_back(a + " " + b);
  }
  if (auto added = doc.Find("added_tokens"); added && added->IsArray()) {
    LOOM_ASSIGN_OR_RETURN(auto list, added->Elements());
    for (const auto& a : list) {
      AddedToken x;
      LOOM_ASSIGN_OR_RETURN(x.content, a.GetString("content"));
      LOOM_ASSIGN_OR_RETURN(int64_t id, a.GetInt("id"));
      if (id < 0 || id >= (1 << 24) || x.content.empty())
        return InvalidArgumentError(StrCat(a.path(), ": bad added token"));
      x.id = static_cast<int32_t>(id);
      LOOM_ASSIGN_OR_RETURN(x.special, a.GetBool("special", false));
      LOOM_ASSIGN_OR_RETURN(x.lstrip, a.GetBool("lstrip", false));
      LOOM_ASSIGN_OR_RETURN(x.rstrip, a.GetBool("rstrip", false));
      v.added.push_back(x);
    }
  }
  return FromVocab(std::move(v));
}

StatusOr<std::unique_ptr<BpeTokenizer>> BpeTokenizer::FromVocab(Vocab v) {
  auto t = std::unique_ptr<BpeTokenizer>(new BpeTokenizer());
  t->split_ = v.split;
  t->add_prefix_space_ = v.add_prefix_space;
  int64_t max_id = static_cast<int64_t>(v.tokens.size()) - 1;
  t->vocab_.reserve(v.tokens.size());
  for (size_t id = 0; id < v.tokens.size(); ++id)
    if (!v.tokens[id].empty()) t->vocab_[v.tokens[id]] = static_cast<int32_t>(id);
  t->merge_rank_.reserve(v.merges.size());
  for (size_t r = 0; r < v.merges.size(); ++r)
    t->merge_rank_.emplace(std::move(v.merges[r]), static_cast<int32_t>(r));
  for (const AddedToken& a : v.added) {
    if (a.id < 0 || a.id >= (1 << 24) || a.content.empty())
      return InvalidArgumentError(StrCat(v.source, ": bad added token id ", a.id));
    max_id = std::max<int64_t>(max_id, a.id);
  }
  t->added_ = std::move(v.added);
  std::stable_sort(t->added_.begin(), t->added_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  t->id_to_token_.resize(static_cast<size_t>(max_id + 1));
  t->is_special_.assign(static_cast<size_t>(max_id + 1), false);
  for (const auto& [tok, id] : t->vocab_) t->id_to_token_[id] = tok;
  for (const auto& a : t->added_) {
    t->is_special_[a.id] = a.special;
    t->vocab_[a.content] = a.id;
    // GGUF vocabularies keep added tokens only as raw text, outside the byte-level vocabulary.
    if (t->id_to_token_[a.id].empty()) t->id_to_token_[a.id] = a.content;
  }
  // Byte-level needs every byte symbol in the vocabulary, or some input could not be encoded.
  for (int b = 0; b < 256; ++b)
    if (!t->vocab_.count(ByteToSymbol(static_cast<uint8_t>(b))))
      return InvalidArgumentError(StrCat(v.source, ": byte ", b, " has no token"));
  return t;
}

std::optional<int32_t> BpeTokenizer::TokenId(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

std::vector<int32_t> BpeTokenizer::Encode(std::string_view text) const {
  std::vector<int32_t> out;
  for (const TextSegment& seg : SplitAddedTokens(text, added_)) {
    if (seg.is_added) out.push_back(seg.id);
    else EncodeOrdinary(seg.text, out);
  }
  return out;
}

void BpeTokenizer::EncodeOrdinary(std::string_view text, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::string prefixed;
  if (add_prefix_space_ && text.front() != ' ') {
    prefixed.push_back(' ');
    prefixed.append(text);
    text = prefixed;
  }
  const auto words = split_ == Split::kCl100k ? SplitCl100k(text) : SplitGpt2(text);
  for (std::string_view w : words) EncodeWord(w, out);
}

void BpeTokenizer::EncodeWord(std::string_view word, std::vector<int32_t>& out) const {
  std::vector<std::string> sym;
  for (unsigned char b : word) sym.push_back(ByteToSymbol(b));
  // Repeatedly merge the adjacent pair of lowest rank (O(n^2) on a word, words are short).
  std::string key;
  while (sym.size() > 1) {
    int32_t best = INT32_MAX;
    size_t at = 0;
    for (size_t i = 0; i + 1 < sym.size(); ++i) {
      key.assign(sym[i]).append(" ").append(sym[i + 1]);
      auto it = merge_rank_.find(key);
      if (it != merge_rank_.end() && it->second < best) {
        best = it->second;
        at = i;
      }
    }
    if (best == INT32_MAX) break;
    sym[at] += sym[at + 1];
    sym.erase(sym.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
  for (const auto& s : sym) {
    auto it = vocab_.find(s);
    // Every byte symbol is in the vocabulary (checked at load) and merges only produce
    // vocabulary entries in well-formed files; fall back to bytes otherwise.
    if (it != vocab_.end()) {
      out.push_back(it->second);
      continue;
    }
    for (const auto& c : DecodeUtf8(s)) {
      std::string one;
      AppendUtf8(c.cp, one);
      if (auto b = vocab_.find(one); b != vocab_.end()) out.push_back(b->second);
    }
  }
}

std::string BpeTokenizer::Decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  const ByteMap& m = Bytes();
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) continue;
    if (is_special_[id]) {
      if (!skip_special) out += id_to_token_[id];
      continue;
    }
    bool is_added = false;
    for (const AddedToken& a : added_)
      if (a.id == id) {
        out += a.content;
        is_added = true;
        break;
      }
    if (is_added) continue;
    for (const auto& c : DecodeUtf8(id_to_token_[id])) {
      auto it = m.from_symbol.find(c.cp);
      if (it != m.from_symbol.end()) out.push_back(static_cast<char>(it->second));
    }
  }
  return out;
}

}  // namespace loom::phi
