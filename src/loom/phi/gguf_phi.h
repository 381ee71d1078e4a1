// phi models in GGUF files, with llama.cpp's names and keys (docs/formats/gguf.md):
// architectures `phi2` (PhiForCausalLM) and `phi3` (Phi3ForCausalLM, phi-4 included), tensors
// token_embd, output_norm, output, blk.N.{attn_norm, attn_qkv | attn_q/k/v, attn_output,
// ffn_norm, ffn_up, ffn_down}, rope_factors_long/short. So loom runs GGUFs made by llama.cpp's
// convert_hf_to_gguf.py and llama-quantize, and llama.cpp runs the files `loom phi quantize`
// writes.
//
// Matrices keep their file type (F32, F16, Q8_0, Q4_0 stay packed as loom runs them; BF16 is
// widened to F32); norms, biases and the embedding table are read as fp32.
// Thread-safety: pure functions.
#pragma once

#include <string>

#include "loom/base/status.h"
#include "loom/phi/config.h"
#include "loom/phi/gguf.h"
#include "loom/phi/weights.h"

namespace loom::phi {

// True when the file at `path` starts with the GGUF magic.
bool IsGgufFile(const std::string& path);

StatusOr<PhiConfig> PhiConfigFromGguf(const GgufFile& file);
StatusOr<PhiWeights> PhiWeightsFromGguf(const GgufFile& file, const PhiConfig& config);

struct PhiGgufOptions {
  std::string name;                // general.name
  const GgufFile* vocab = nullptr;  // copy its tokenizer.* keys (padded to vocab_size)
};
// Writes config + weights (each matrix in its current type). Without a vocab the file has no
// tokenizer keys: loom reads it, llama.cpp refuses it.
Status WritePhiGguf(const std::string& path, const PhiConfig& config, const PhiWeights& weights,
                    const PhiGgufOptions& options);

}  // namespace loom::phi
