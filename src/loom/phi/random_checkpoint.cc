// Random checkpoints of published shapes; see random_checkpoint.h.
#include "loom/phi/random_checkpoint.h"

#include <cstring>
#include <filesystem>

#include "loom/base/file_io.h"
#include "loom/base/half.h"
#include "loom/base/random.h"
#include "loom/base/strings.h"
#include "loom/phi/config.h"
#include "loom/phi/weights.h"

namespace loom::phi {

std::vector<std::string> PresetNames() {
  return {"phi-1.5", "phi-2", "phi-3-mini", "phi-4", "phi-4-mini"};
}

StatusOr<Json> PresetConfig(const std::string& preset, int64_t layers) {
  if (layers <= 0) return InvalidArgumentError("layers must be > 0");
  Json c;
  if (preset == "phi-1.5" || preset == "phi-2") {
    const bool two = preset == "phi-2";
    c = {{"model_type", "phi"}, {"architectures", {"PhiForCausalLM"}}, {"vocab_size", 51200},
         {"hidden_size", two ? 2560 : 2048}, {"intermediate_size", two ? 10240 : 8192},
         {"num_attention_heads", 32}, {"partial_rotary_factor", two ? 0.4 : 0.5},
         {"rope_theta", 10000.0}, {"layer_norm_eps", 1e-5}, {"max_position_embeddings", 2048},
         {"bos_token_id", 50256}, {"eos_token_id", 50256}, {"tie_word_embeddings", false}};
  } else if (preset == "phi-3-mini") {
    c = {{"model_type", "phi3"}, {"architectures", {"Phi3ForCausalLM"}}, {"vocab_size", 32064},
         {"hidden_size", 3072}, {"intermediate_size", 8192}, {"num_attention_heads", 32},
         {"num_key_value_heads", 32}, {"rope_theta", 10000.0}, {"rms_norm_eps", 1e-5},
         {"max_position_embeddings", 4096}, {"original_max_position_embeddings", 4096},
         {"sliding_window", 2047}, {"bos_token_id", 1}, {"eos_token_id", 32000},
         {"tie_word_embeddings", false}};
  } else if (preset == "phi-4") {
    c = {{"model_type", "phi3"}, {"architectures", {"Phi3ForCausalLM"}}, {"vocab_size", 100352},
         {"hidden_size", 5120}, {"intermediate_size", 17920}, {"num_attention_heads", 40},
         {"num_key_value_heads", 10}, {"rope_theta", 250000.0}, {"rms_norm_eps", 1e-5},
         {"max_position_embeddings", 16384}, {"sliding_window", nullptr},
         {"bos_token_id", 100257}, {"eos_token_id", 100265}, {"tie_word_embeddings", false}};
  } else if (preset == "phi-4-mini") {
    c = {{"model_type", "phi3"}, {"architectures", {"Phi3ForCausalLM"}}, {"vocab_size", 200064},
         {"hidden_size", 3072}, {"intermediate_size", 8192}, {"num_attention_heads", 24},
         {"num_key_value_heads", 8}, {"rope_theta", 10000.0}, {"rms_norm_eps", 1e-5},
         {"partial_rotary_factor", 0.75}, {"max_position_embeddings", 4096},
         {"sliding_window", 262144}, {"bos_token_id", 199999}, {"eos_token_id", 199999},
         {"tie_word_embeddings", true}};
  } else {
    return InvalidArgumentError(StrCat("unknown preset '", preset, "'"));
  }
  c["num_hidden_layers"] = layers;
  return c;
}

Status WriteRandomCheckpoint(const Json& config, const std::string& dir, DType dtype,
                             uint64_t seed) {
  if (dtype != DType::kF32 && dtype != DType::kF16 && dtype != DType::kBF16)
    return InvalidArgumentError("random checkpoints are F32, F16 or BF16");
  LOOM_ASSIGN_OR_RETURN(JsonValue doc, ParseJson(config.dump(), "config"));
  LOOM_ASSIGN_OR_RETURN(PhiConfig c, ParsePhiConfig(doc));
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return UnavailableError(StrCat("cannot create ", dir, ": ", ec.message()));
  Prng rng(seed);
  std::vector<TensorData> tensors;
  for (const ExpectedTensor& e : ExpectedTensors(c)) {
    int64_t n = 1;
    for (int64_t d : e.shape) n *= d;
    const bool is_norm_weight = e.shape.size() == 1 && (e.name.find("norm") != std::string::npos ||
                                                        e.name.find(".ln.") != std::string::npos) &&
                                e.name.ends_with("weight");
    TensorData t{e.name, dtype, e.shape, std::string(static_cast<size_t>(n) * DTypeSize(dtype), '\0')};
    for (int64_t i = 0; i < n; ++i) {
      const float v = is_norm_weight ? 1.0f : static_cast<float>(rng.Normal() * 0.02);
      char* p = t.bytes.data() + i * DTypeSize(dtype);
      if (dtype == DType::kF32) {
        std::memcpy(p, &v, 4);
      } else {
        const uint16_t bits = dtype == DType::kF16 ? FloatToHalf(v).bits : FloatToBFloat16(v).bits;
        std::memcpy(p, &bits, 2);
      }
    }
    tensors.push_back(std::move(t));
  }
  LOOM_RETURN_IF_ERROR(WriteJsonFile(dir + "/config.json", config));
  return WriteSafetensors(dir + "/model.safetensors", tensors);
}

}  // namespace loom::phi
