// The weights of a phi model in fp32, loaded from a Checkpoint by the HF names of either
// architecture (phi HF-native, phi legacy MixFormer, Phi-3) with every expected tensor's
// presence and shape checked against the config (DataLoss naming the tensor otherwise).
// phi's separate q/k/v projections are fused on load into one [q | k | v] matrix, the layout
// Phi-3 stores, so both block types run one GEMM for the projections.
// Thread-safety: immutable after loading.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/phi/config.h"
#include "loom/phi/quant.h"
#include "loom/phi/safetensors.h"

namespace loom::phi {

// y = x W^T + b with W stored row-major [out x in], as in PyTorch's nn.Linear. After
// QuantizeWeights the rows live in `packed` (type F16/Q8_0/Q4_0) and `w` is empty.
struct Linear {
  int64_t out = 0, in = 0;
  std::vector<float> w;
  std::vector<float> b;  // empty when the layer has no bias
  WeightType type = WeightType::kF32;
  std::vector<uint8_t> packed;  // out rows of RowBytes(type, in) bytes
};

struct LayerWeights {
  std::vector<float> norm1_w, norm1_b;  // phi LayerNorm (w, b); Phi-3 RMSNorm (w only)
  std::vector<float> norm2_w;           // Phi-3 post_attention_layernorm
  Linear qkv;                           // rows [q (H*d) | k (KV*d) | v (KV*d)]
  Linear o;                             // phi dense / Phi-3 o_proj
  Linear up;                            // phi fc1 / Phi-3 gate_up_proj (rows [gate | up])
  Linear down;                          // phi fc2 / Phi-3 down_proj
};

struct PhiWeights {
  std::vector<float> embed;  // [vocab x hidden]
  std::vector<LayerWeights> layers;
  std::vector<float> final_norm_w, final_norm_b;
  Linear lm_head;  // a copy of embed when tied
};

// One row per expected tensor: HF name and shape, in load order (used by `inspect` too).
struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
};
std::vector<ExpectedTensor> ExpectedTensors(const PhiConfig& config);

StatusOr<PhiWeights> LoadWeights(const Checkpoint& ckpt, const PhiConfig& config);

// Converts every projection and the head to `type` (the embedding table stays fp32: decode
// reads one row of it); matrices already packed in another type go through fp32 first, and
// kF32 dequantizes. Q types need every input width to be a multiple of 32.
Status QuantizeWeights(PhiWeights& weights, WeightType type);

// Asks for 2 MiB pages under every projection and head matrix (loom/base/huge_pages.h): decode
// streams them once per token, and huge pages read ~10-25 % faster here. PhiModel calls it on
// its first Forward (and again after Quantize); a kernel that refuses leaves them as they are.
void AdviseWeightHugePages(const PhiWeights& weights);

// Bytes a decode step streams from the projection and head weights.
double StreamedWeightBytes(const PhiWeights& weights);

// Checks presence, float dtype and shape of every expected tensor without converting data.
Status ValidateCheckpoint(const Checkpoint& ckpt, const PhiConfig& config);

}  // namespace loom::phi
