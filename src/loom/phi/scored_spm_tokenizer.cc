// SentencePiece BPE over pieces and scores; see scored_spm_tokenizer.h.
#include "loom/phi/scored_spm_tokenizer.h"

#include <algorithm>
#include <queue>

#include "loom/base/strings.h"

namespace loom::phi {
namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581, SentencePiece's space

size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;  // a stray continuation or invalid byte stands alone (and falls back to bytes)
}

// One symbol of the merge list: a byte range of the normalized text, linked to neighbours.
struct Symbol {
  int prev = -1, next = -1;
  size_t begin = 0, size = 0;  // size 0: merged away
};

struct Pair {
  int left = 0, right = 0;
  float score = 0;
  size_t size = 0;  // left.size + right.size when queued: a stale entry no longer matches
};

// Highest score first; on equal scores the leftmost pair.
struct PairOrder {
  bool operator()(const Pair& a, const Pair& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

// 0-15 for a hex digit, -1 otherwise.
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

StatusOr<std::unique_ptr<ScoredSpmTokenizer>> ScoredSpmTokenizer::FromVocab(Vocab v) {
  const size_t n = v.pieces.size();
  if (n == 0) return InvalidArgumentError(StrCat(v.source, ": empty vocabulary"));
  if (v.scores.size() != n || v.types.size() != n)
    return InvalidArgumentError(StrCat(v.source, ": ", n, " pieces but ", v.scores.size(),
                                       " scores and ", v.types.size(), " types"));
  if (n >= (1u << 24)) return InvalidArgumentError(StrCat(v.source, ": vocabulary too large"));
  auto t = std::unique_ptr<ScoredSpmTokenizer>(new ScoredSpmTokenizer());
  t->add_dummy_prefix_ = v.add_dummy_prefix;
  t->byte_id_.assign(256, -1);
  t->byte_value_.assign(n, -1);
  for (size_t id = 0; id < n; ++id) {
    const std::string& p = v.pieces[id];
    const auto i = static_cast<int32_t>(id);
    t->all_.emplace(p, i);
    switch (v.types[id]) {
      case PieceType::kNormal:
      case PieceType::kUnused:
        t->mergeable_.emplace(p, std::make_pair(i, v.scores[id]));
        break;
      case PieceType::kUnknown:
        if (t->unk_id_ < 0) t->unk_id_ = i;
        break;
      case PieceType::kByte: {
        // Exactly "<0x" two hex digits ">": sscanf's %2X would also take "-C" (a huge
        // index: found by gguf_fuzz), " 1" and "1Z".
        const int hi =
            p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>' ? HexDigit(p[3]) : -1;
        const int lo = hi >= 0 ? HexDigit(p[4]) : -1;
        if (lo < 0)
          return InvalidArgumentError(
              StrCat(v.source, ": byte piece ", id, " is '", p, "', not <0xXX>"));
        const unsigned value = static_cast<unsigned>(hi * 16 + lo);
        t->byte_id_[value] = i;
        t->byte_value_[id] = static_cast<int16_t>(value);
        break;
      }
      case PieceType::kControl:
      case PieceType::kUserDefined: {
        if (p.empty()) break;
        AddedToken a;
        a.content = p;
        a.id = i;
        a.special = v.types[id] == PieceType::kControl;
        a.rstrip = std::find(v.rstrip.begin(), v.rstrip.end(), p) != v.rstrip.end();
        t->added_.push_back(std::move(a));
        break;
      }
      default:
        return InvalidArgumentError(StrCat(v.source, ": piece ", id, " ('", p, "') has type ",
                                           static_cast<int>(v.types[id])));
    }
  }
  std::stable_sort(
      t->added_.begin(), t->added_.end(),
      [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  t->pieces_ = std::move(v.pieces);
  t->types_ = std::move(v.types);
  return t;
}

void ScoredSpmTokenizer::EncodeOrdinary(std::string_view text, bool first,
                                        std::vector<int32_t>& out) const {
  if (text.empty()) return;
  std::string norm;
  norm.reserve(text.size() + 8);
  if (first && add_dummy_prefix_) norm += kSpace;
  for (char c : text) {
    if (c == ' ')
      norm += kSpace;
    else
      norm += c;
  }
  std::vector<Symbol> sym;
  for (size_t i = 0; i < norm.size();) {
    const size_t len = std::min(Utf8Length(static_cast<unsigned char>(norm[i])), norm.size() - i);
    Symbol s;
    s.prev = static_cast<int>(sym.size()) - 1;
    s.next = static_cast<int>(sym.size()) + 1;
    s.begin = i;
    s.size = len;
    sym.push_back(s);
    i += len;
  }
  sym.back().next = -1;
  std::priority_queue<Pair, std::vector<Pair>, PairOrder> agenda;
  auto consider = [&](int left, int right) {
    if (left < 0 || right < 0) return;
    const size_t size = sym[left].size + sym[right].size;
    auto it = mergeable_.find(std::string(norm.data() + sym[left].begin, size));
    if (it == mergeable_.end()) return;
    agenda.push(Pair{left, right, it->second.second, size});
  };
  for (size_t i = 1; i < sym.size(); ++i) consider(static_cast<int>(i) - 1, static_cast<int>(i));
  while (!agenda.empty()) {
    const Pair top = agenda.top();
    agenda.pop();
    Symbol& l = sym[top.left];
    Symbol& r = sym[top.right];
    if (l.size == 0 || r.size == 0 || l.next != top.right || l.size + r.size != top.size) continue;
    l.size += r.size;
    r.size = 0;
    l.next = r.next;
    if (r.next >= 0) sym[r.next].prev = top.left;
    consider(l.prev, top.left);
    consider(top.left, l.next);
  }
  bool prev_unknown = false;
  for (int i = 0; i >= 0; i = sym[i].next) {
    const std::string piece(norm.data() + sym[i].begin, sym[i].size);
    if (auto it = mergeable_.find(piece); it != mergeable_.end()) {
      out.push_back(it->second.first);
      prev_unknown = false;
      continue;
    }
    // Not a piece: its bytes as <0xXX> pieces (byte fallback), else one unknown piece for a
    // run of such symbols, as SentencePiece does.
    const bool bytes = std::all_of(piece.begin(), piece.end(), [&](char b) {
      return byte_id_[static_cast<unsigned char>(b)] >= 0;
    });
    if (bytes) {
      for (char b : piece) out.push_back(byte_id_[static_cast<unsigned char>(b)]);
      prev_unknown = false;
    } else if (unk_id_ >= 0 && !prev_unknown) {
      out.push_back(unk_id_);
      prev_unknown = true;
    }
  }
}

std::vector<int32_t> ScoredSpmTokenizer::Encode(std::string_view text) const {
  std::vector<int32_t> out;
  bool first = true;
  for (const TextSegment& seg : SplitAddedTokens(text, added_)) {
    if (seg.is_added)
      out.push_back(seg.id);
    else
      EncodeOrdinary(seg.text, first, out);
    first = false;
  }
  return out;
}

std::string ScoredSpmTokenizer::Decode(std::span<const int32_t> ids, bool skip_special) const {
  std::string out;
  // A run of ordinary pieces loses the space its first piece starts with (the dummy prefix),
  // as SentencePiece's decoder does for each run between added tokens.
  bool run_start = true;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) continue;
    const PieceType type = types_[id];
    const std::string& p = pieces_[id];
    if (type == PieceType::kControl || type == PieceType::kUserDefined) {
      if (!(skip_special && type == PieceType::kControl)) out += p;
      run_start = true;
      continue;
    }
    if (type == PieceType::kByte) {
      out += static_cast<char>(byte_value_[id]);  // parsed once, in FromVocab
      run_start = false;
      continue;
    }
    if (type == PieceType::kUnknown) {
      out += " \xE2\x81\x87 ";  // SentencePiece renders unk as " ⁇ "
      run_start = false;
      continue;
    }
    std::string text;
    for (size_t i = 0; i < p.size();) {
      if (p.compare(i, kSpace.size(), kSpace) == 0) {
        text += ' ';
        i += kSpace.size();
      } else {
        text += p[i++];
      }
    }
    if (run_start && add_dummy_prefix_ && !text.empty() && text[0] == ' ') text.erase(0, 1);
    out += text;
    run_start = false;
  }
  return out;
}

std::optional<int32_t> ScoredSpmTokenizer::TokenId(std::string_view token) const {
  auto it = all_.find(std::string(token));
  if (it == all_.end()) return std::nullopt;
  return it->second;
}

}  // namespace loom::phi
