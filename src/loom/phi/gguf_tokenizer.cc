// Tokenizers from GGUF vocabularies; see gguf_tokenizer.h.
#include "loom/phi/gguf_tokenizer.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "loom/base/logging.h"
#include "loom/base/strings.h"
#include "loom/phi/scored_spm_tokenizer.h"

namespace loom::phi {
namespace {

constexpr std::string_view kModel = "tokenizer.ggml.model";
constexpr std::string_view kTokens = "tokenizer.ggml.tokens";
constexpr std::string_view kTypes = "tokenizer.ggml.token_type";
constexpr std::string_view kScores = "tokenizer.ggml.scores";
constexpr std::string_view kMerges = "tokenizer.ggml.merges";
constexpr std::string_view kPre = "tokenizer.ggml.pre";
constexpr std::string_view kSpacePrefix = "tokenizer.ggml.add_space_prefix";

Status Lost(const GgufFile& f, std::string_view key, std::string_view what) {
  return DataLossError(StrCat(f.source(), ": ", key, ": ", what));
}

StatusOr<const std::vector<std::string>*> Strings(const GgufFile& f, std::string_view key) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) return Lost(f, key, "missing");
  if (v->type != GgufValueType::kArray || v->array_type != GgufValueType::kString)
    return Lost(f, key, "not an array of strings");
  return &v->strings;
}

// A numeric array of exactly n entries; absent gives `fallback` n times when allowed.
StatusOr<std::vector<double>> Numbers(const GgufFile& f, std::string_view key, size_t n,
                                      std::optional<double> fallback) {
  const GgufValue* v = f.Find(key);
  if (v == nullptr) {
    if (!fallback) return Lost(f, key, "missing");
    return std::vector<double>(n, *fallback);
  }
  if (v->type != GgufValueType::kArray || v->array_type == GgufValueType::kString ||
      v->array_type == GgufValueType::kArray)
    return Lost(f, key, "not a numeric array");
  if (v->numbers.size() != n)
    return Lost(f, key, StrCat(v->numbers.size(), " entries for ", n, " tokens"));
  return v->numbers;
}

StatusOr<std::vector<PieceType>> Types(const GgufFile& f, size_t n) {
  LOOM_ASSIGN_OR_RETURN(std::vector<double> raw, Numbers(f, kTypes, n, 1.0));
  std::vector<PieceType> types(n);
  for (size_t i = 0; i < n; ++i) {
    const double t = raw[i];
    if (t != std::floor(t) || t < 0 || t > 6)
      return Lost(f, kTypes, StrCat("token ", i, " has type ", t, " (0..6)"));
    // 0 (undefined) is what older converters wrote for ordinary tokens.
    types[i] = t == 0 ? PieceType::kNormal : static_cast<PieceType>(static_cast<int32_t>(t));
  }
  return types;
}

StatusOr<bool> SpacePrefix(const GgufFile& f, bool fallback) {
  const GgufValue* v = f.Find(kSpacePrefix);
  if (v == nullptr) return fallback;
  if (v->type != GgufValueType::kBool) return Lost(f, kSpacePrefix, "not a bool");
  return v->i != 0;
}

bool IsAdded(PieceType t) { return t == PieceType::kControl || t == PieceType::kUserDefined; }

StatusOr<std::unique_ptr<Tokenizer>> Gpt2FromGguf(const GgufFile& f,
                                                  const std::vector<std::string>& tokens) {
  BpeTokenizer::Vocab v;
  v.source = StrCat(f.source(), " (", kTokens, ")");
  std::string pre = "gpt-2";
  if (f.Find(kPre) == nullptr) {
    LOOM_LOG(kWarning) << f.source() << ": no " << kPre << "; assuming GPT-2's pre-tokenizer";
  } else {
    LOOM_ASSIGN_OR_RETURN(pre, f.GetString(kPre));
  }
  if (pre == "gpt-2" || pre == "phi-2" || pre == "codegen")
    v.split = BpeTokenizer::Split::kGpt2;
  else if (pre == "dbrx")
    v.split = BpeTokenizer::Split::kCl100k;
  else
    return InvalidArgumentError(StrCat(f.source(), ": ", kPre, " '", pre,
                                       "' is not a pre-tokenizer loom runs (gpt-2, phi-2, "
                                       "codegen: GPT-2's split; dbrx: cl100k's, as phi-4)"));
  LOOM_ASSIGN_OR_RETURN(v.add_prefix_space, SpacePrefix(f, false));
  LOOM_ASSIGN_OR_RETURN(std::vector<PieceType> types, Types(f, tokens.size()));
  LOOM_ASSIGN_OR_RETURN(const std::vector<std::string>* merges, Strings(f, kMerges));
  v.merges = *merges;
  v.tokens.resize(tokens.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!IsAdded(types[i])) {
      v.tokens[i] = tokens[i];
      continue;
    }
    // Added tokens are stored as raw text (the converter decodes user-defined ones).
    AddedToken a;
    a.content = tokens[i];
    a.id = static_cast<int32_t>(i);
    a.special = types[i] == PieceType::kControl;
    if (!a.content.empty()) v.added.push_back(std::move(a));
  }
  LOOM_ASSIGN_OR_RETURN(auto t, BpeTokenizer::FromVocab(std::move(v)));
  return std::unique_ptr<Tokenizer>(std::move(t));
}

StatusOr<std::unique_ptr<Tokenizer>> LlamaFromGguf(const GgufFile& f,
                                                   const std::vector<std::string>& tokens) {
  ScoredSpmTokenizer::Vocab v;
  v.source = StrCat(f.source(), " (", kTokens, ")");
  v.pieces = tokens;
  LOOM_ASSIGN_OR_RETURN(v.types, Types(f, tokens.size()));
  LOOM_ASSIGN_OR_RETURN(std::vector<double> scores,
                        Numbers(f, kScores, tokens.size(), std::nullopt));
  v.scores.assign(scores.begin(), scores.end());
  LOOM_ASSIGN_OR_RETURN(v.add_dummy_prefix, SpacePrefix(f, true));
  auto has_added = [&](std::string_view text) {
    for (size_t i = 0; i < tokens.size(); ++i)
      if (IsAdded(v.types[i]) && tokens[i] == text) return true;
    return false;
  };
  if (has_added("<|end|>") && has_added("<|assistant|>")) {  // Phi-3's rstrip flags
    for (size_t i = 0; i < tokens.size(); ++i)
      if (IsAdded(v.types[i]) && tokens[i] != "<unk>" && tokens[i] != "<s>" &&
          tokens[i] != "<|endoftext|>")
        v.rstrip.push_back(tokens[i]);
  }
  LOOM_ASSIGN_OR_RETURN(auto t, ScoredSpmTokenizer::FromVocab(std::move(v)));
  return std::unique_ptr<Tokenizer>(std::move(t));
}

}  // namespace

bool GgufHasTokenizer(const GgufFile& file) {
  return file.Find(kModel) != nullptr && file.Find(kTokens) != nullptr;
}

StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromGguf(const GgufFile& file) {
  LOOM_ASSIGN_OR_RETURN(std::string model, file.GetString(kModel));
  LOOM_ASSIGN_OR_RETURN(const std::vector<std::string>* tokens, Strings(file, kTokens));
  if (tokens->empty()) return Lost(file, kTokens, "empty");
  if (model == "gpt2") return Gpt2FromGguf(file, *tokens);
  if (model == "llama") return LlamaFromGguf(file, *tokens);
  return InvalidArgumentError(StrCat(file.source(), ": ", kModel, " '", model,
                                     "' is not a tokenizer loom runs (gpt2: byte-level BPE; "
                                     "llama: SentencePiece)"));
}

}  // namespace loom::phi
