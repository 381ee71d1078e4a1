// SentencePiece BPE from a list of pieces and scores, without libsentencepiece: the form in
// which GGUF files carry Llama/Phi-3 vocabularies ("llama" tokenizer model; gguf_tokenizer.h).
//
// Encoding follows SentencePiece's BPE model: spaces become U+2581 (with one leading U+2581,
// the dummy prefix, on the first text segment only, as HF's LlamaTokenizer with legacy=False),
// the text is cut into code points, and the adjacent pair whose concatenation is a piece with
// the highest score merges first (ties: leftmost), until no pair is a piece. A symbol that is
// not a piece falls back to its UTF-8 bytes as <0xXX> pieces, or to the unknown piece.
// Control and user-defined pieces are added tokens: split out of the raw text first.
// Thread-safety: immutable after construction; Encode/Decode may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "loom/base/status.h"
#include "loom/phi/added_tokens.h"
#include "loom/phi/tokenizer.h"

namespace loom::phi {

// Piece types; the numbering is SentencePiece's and GGUF's (tokenizer.ggml.token_type).
enum class PieceType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6
};

class ScoredSpmTokenizer final : public Tokenizer {
 public:
  struct Vocab {
    std::vector<std::string> pieces;  // by id
    std::vector<float> scores;        // by id
    std::vector<PieceType> types;     // by id
    bool add_dummy_prefix = true;
    // Added tokens that swallow the whitespace after them (HF's rstrip), by content.
    std::vector<std::string> rstrip;
    std::string source;  // names the file in errors
  };
  static StatusOr<std::unique_ptr<ScoredSpmTokenizer>> FromVocab(Vocab v);

  std::vector<int32_t> Encode(std::string_view text) const override;
  std::string Decode(std::span<const int32_t> ids, bool skip_special = false) const override;
  std::optional<int32_t> TokenId(std::string_view token) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(pieces_.size()); }

 private:
  ScoredSpmTokenizer() = default;
  void EncodeOrdinary(std::string_view text, bool first, std::vector<int32_t>& out) const;

  std::vector<std::string> pieces_;
  std::vector<PieceType> types_;
  std::unordered_map<std::string, std::pair<int32_t, float>> mergeable_;  // piece -> id, score
  std::unordered_map<std::string, int32_t> all_;                          // any piece -> id
  std::vector<int32_t> byte_id_;     // 256 entries, -1 where the vocabulary lacks <0xXX>
  std::vector<int16_t> byte_value_;  // by id: the byte a <0xXX> piece stands for, else -1
  int32_t unk_id_ = -1;
  bool add_dummy_prefix_ = true;
  std::vector<AddedToken> added_;  // longest first
};

}  // namespace loom::phi
