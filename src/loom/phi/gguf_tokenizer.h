// Tokenizers from the vocabulary a GGUF file embeds (tokenizer.ggml.* keys, as written by
// llama.cpp's converter), so a single .gguf is enough to generate text:
//   model "gpt2"  -> BpeTokenizer (tokens in byte-level form, merges "a b", pre-tokenizer
//                    "gpt-2"/"phi-2" = GPT-2's split, "dbrx" = cl100k's split, as phi-4 uses);
//   model "llama" -> ScoredSpmTokenizer (pieces, scores, types; Phi-3's SentencePiece).
// Token types 3 (control) and 4 (user-defined) become added tokens, split out of the text
// first; control tokens are special (dropped by Decode(skip_special)). GGUF keeps no
// lstrip/rstrip flags, so Phi-3's (its role tokens swallow the newline after them) are
// restored by name: every added token but <unk>, <s> and <|endoftext|> rstrips when the
// vocabulary holds <|end|> and <|assistant|>.
// Thread-safety: pure functions; the tokenizers are immutable.
#pragma once

#include <memory>

#include "loom/base/status.h"
#include "loom/phi/gguf.h"
#include "loom/phi/tokenizer.h"

namespace loom::phi {

// Whether the file carries a vocabulary (tokenizer.ggml.model and .tokens).
bool GgufHasTokenizer(const GgufFile& file);

// InvalidArgument naming the file and key for a model or pre-tokenizer loom does not run,
// DataLoss for missing or inconsistent arrays.
StatusOr<std::unique_ptr<Tokenizer>> TokenizerFromGguf(const GgufFile& file);

}  // namespace loom::phi
