// Tokenizers of the phi family. BpeTokenizer reads a Hugging Face tokenizer.json with a
// byte-level BPE model: GPT-2 / CodeGen (phi-1/1.5/2, ByteLevel pre-tokenizer with its regex,
// plus CodeGen's added whitespace tokens) and cl100k-style (phi-4: a Split on the cl100k
// pattern, then ByteLevel without regex). Added tokens (special or not) are matched in the
// raw text first, leftmost-longest, honouring lstrip/rstrip; the rest is pre-split
// (pretokenize.h), mapped to byte-level symbols and merged by rank.
// Thread-safety: immutable after loading; Encode/Decode may run concurrently.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "loom/base/json.h"
#include "loom/base/status.h"
#include "loom/phi/added_tokens.h"

namespace loom::phi {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  virtual std::vector<int32_t> Encode(std::string_view text) const = 0;
  // Concatenated token texts; special tokens are dropped when skip_special.
  virtual std::string Decode(std::span<const int32_t> ids, bool skip_special = false) const = 0;
  virtual std::optional<int32_t> TokenId(std::string_view token) const = 0;
  virtual int64_t vocab_size() const = 0;  // largest id + 1 (real tokens, without padding)
};

// tokenizer.json in model_dir (byte-level BPE), else tokenizer.model (SentencePiece) with the
// added tokens of tokenizer_config.json. `model_dir` may also be a GGUF file: its embedded
// vocabulary (gguf_tokenizer.h) when it has one, else the tokenizer files beside it.
StatusOr<std::unique_ptr<Tokenizer>> LoadTokenizer(const std::string& model_dir);

// SentencePiece tokenizer.model (Phi-3 / 3.5; Llama-2 vocabulary with byte fallback) through
// Debian's libsentencepiece, with HF LlamaTokenizer's legacy=False rules around added tokens:
// only the first text segment gets SentencePiece's dummy "▁" prefix. Unavailable when loom
// was built without libsentencepiece.
StatusOr<std::unique_ptr<Tokenizer>> LoadSentencePiece(const std::string& model_path,
                                                       const std::string& config_path);

class BpeTokenizer final : public Tokenizer {
 public:
  enum class Split { kGpt2, kCl100k };

  // What a byte-level BPE tokenizer is made of, whichever file it came from.
  struct Vocab {
    Split split = Split::kGpt2;
    bool add_prefix_space = false;
    std::vector<std::string> tokens;  // byte-level symbols, by id ("" for an unused id)
    std::vector<std::string> merges;  // "left right", by rank
    std::vector<AddedToken> added;    // raw text, any order
    std::string source;               // names the file in errors
  };
  static StatusOr<std::unique_ptr<BpeTokenizer>> FromVocab(Vocab v);
  static StatusOr<std::unique_ptr<BpeTokenizer>> FromJson(const JsonValue& doc);
  static StatusOr<std::unique_ptr<BpeTokenizer>> FromFile(const std::string& path);

  std::vector<int32_t> Encode(std::string_view text) const override;
  std::string Decode(std::span<const int32_t> ids, bool skip_special = false) const override;
  std::optional<int32_t> TokenId(std::string_view token) const override;
  int64_t vocab_size() const override { return static_cast<int64_t>(id_to_token_.size()); }
  Split split() const { return split_; }

 private:
  void EncodeOrdinary(std::string_view text, std::vector<int32_t>& out) const;
  void EncodeWord(std::string_view word, std::vector<int32_t>& out) const;

  Split split_ = Split::kGpt2;
  bool add_prefix_space_ = false;
  std::unordered_map<std::string, int32_t> vocab_;
  std::unordered_map<std::string, int32_t> merge_rank_;  // "left right" -> rank
  std::vector<std::string> id_to_token_;
  std::vector<bool> is_special_;
  std::vector<AddedToken> added_;  // longest first
};

// The GPT-2 byte <-> printable-code-point map used by ByteLevel.
const std::string& ByteToSymbol(uint8_t b);  // UTF-8 of the mapped code point

}  // namespace loom::phi
