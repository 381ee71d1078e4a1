// config.json of a phi checkpoint, normalised into one struct for both architectures:
// PhiForCausalLM (phi-1, phi-1.5, phi-2; also the legacy MixFormer "phi-msft" keys) and
// Phi3ForCausalLM (Phi-3/3.5 mini and medium, 4k and 128k, phi-4, Phi-4-mini). Accepts the
// pre-v5 keys (rope_theta, rope_scaling, partial_rotary_factor) and transformers v5's
// rope_parameters. Validation happens here once; the model code trusts the result.
// Thread-safety: plain value type.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loom/base/json.h"
#include "loom/base/status.h"

namespace loom::phi {

enum class Arch {
  kPhi,   // parallel attention + MLP, LayerNorm, gelu_new, biases, partial rotary
  kPhi3,  // sequential RMSNorm / SwiGLU, fused qkv and gate_up, GQA
};

struct LongRope {
  std::vector<float> short_factor;  // rotary_dim / 2 entries each
  std::vector<float> long_factor;
  int64_t original_max_position = 0;
  float attention_factor = 1.0f;  // explicit, or HF's sqrt(1 + ln s / ln orig)
};

struct PhiConfig {
  Arch arch = Arch::kPhi;
  bool legacy_names = false;  // MixFormer "transformer.h.N.mixer.Wqkv" naming
  int64_t vocab_size = 0;
  int64_t hidden = 0;
  int64_t intermediate = 0;
  int64_t layers = 0;
  int64_t heads = 0;
  int64_t kv_heads = 0;
  int64_t head_dim = 0;
  int64_t rotary_dim = 0;  // int(head_dim * partial_rotary_factor), even
  double rope_theta = 10000.0;
  double norm_eps = 1e-5;
  int64_t max_position = 2048;
  std::optional<LongRope> longrope;
  std::optional<int64_t> sliding_window;  // keys visible: i - W < j <= i
  bool tie_embeddings = false;
  std::vector<int64_t> eos_ids;
  std::optional<int64_t> bos_id;

  std::string Describe() const;  // one line for logs and `loom phi inspect`
};

StatusOr<PhiConfig> ParsePhiConfig(const JsonValue& doc);
// The sanity checks every source of a config passes (sizes positive and plausible, heads
// divisible, rotary width even and <= head_dim); errors name `source`.
Status ValidatePhiConfig(const PhiConfig& c, std::string_view source);
StatusOr<PhiConfig> ReadPhiConfig(const std::string& model_dir);  // model_dir/config.json

}  // namespace loom::phi
