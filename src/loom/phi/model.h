// A loaded phi model and its incremental forward pass: T new tokens at positions
// cache.length .. cache.length + T - 1 run through every block as one batch (GEMMs of T rows:
// batched prefill for T > 1, decode for T = 1), appending their keys and values to the cache.
// The block of each architecture lives in its own file (phi_block.cc, phi3_block.cc);
// reference.h holds the slow oracle.
// Thread-safety: a PhiModel is immutable and may serve several caches from different threads;
// a KvCache belongs to one sequence.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "loom/base/status.h"
#include "loom/phi/config.h"
#include "loom/phi/ops.h"
#include "loom/phi/weights.h"

namespace loom::phi {

struct KvCache {
  int64_t length = 0;                // positions already cached
  std::vector<std::vector<float>> k;  // per layer [positions x kv_heads x head_dim]
  std::vector<std::vector<float>> v;
  void Clear() { length = 0; }
};

// Per-layer forward of each architecture: appends this layer's keys/values for positions
// pos0.. pos0 + t to k, v (already sized) and updates the last `keep` rows (1 <= keep <= t) of
// the residual stream h [T x hidden] in place; the first t - keep rows are left stale. The
// model's last layer keeps only the rows whose logits are asked for (as llama.cpp's
// inp_out_ids): their attention, output projection and MLP run on those rows alone.
void PhiBlockForward(const PhiConfig& c, const LayerWeights& w, const RopeParams& rope,
                     int64_t pos0, int64_t t, int64_t keep, float* h, float* k, float* v);
void Phi3BlockForward(const PhiConfig& c, const LayerWeights& w, const RopeParams& rope,
                      int64_t pos0, int64_t t, int64_t keep, float* h, float* k, float* v);

class PhiModel {
 public:
  // Reads dir/config.json and the safetensors checkpoint in dir, or a GGUF file (phi2/phi3
  // architectures, matrices kept in the file's F16/Q8_0/Q4_0 type).
  static StatusOr<std::unique_ptr<PhiModel>> Load(const std::string& path);
  PhiModel(PhiConfig config, PhiWeights weights);

  const PhiConfig& config() const { return config_; }
  const PhiWeights& weights() const { return weights_; }
  KvCache NewCache() const;
  // Converts the projection and head weights to F16 / Q8_0 / Q4_0 (call before serving, not
  // concurrently with Forward; ReferenceForward needs the fp32 weights, so run it first).
  Status Quantize(WeightType type) {
    huge_pages_advised_.store(false);  // the converted matrices are new storage
    return QuantizeWeights(weights_, type);
  }

  // Runs `tokens` after the cached prefix; writes logits of the last token ([vocab]) or of
  // every new token ([T x vocab]) when all_logits.
  Status Forward(std::span<const int32_t> tokens, KvCache& cache, std::vector<float>& logits,
                 bool all_logits = false) const;

 private:
  PhiConfig config_;
  PhiWeights weights_;
  // The first Forward asks for huge pages under the weights it streams
  // (AdviseWeightHugePages), not the constructor: a model loaded to be quantized (`loom phi
  // quantize`, `bench --weights q4_0`) would otherwise have its fp32 matrices collapsed into
  // 2 MiB pages just before they are converted and freed.
  mutable std::atomic<bool> huge_pages_advised_{false};
};

}  // namespace loom::phi
