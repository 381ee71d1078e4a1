// PhiModel: loading and the incremental forward pass; see model.h.
#include "loom/phi/model.h"

#include "loom/phi/gguf_phi.h"

#include "loom/base/strings.h"
#include "loom/phi/safetensors.h"

namespace loom::phi {

StatusOr<std::unique_ptr<PhiModel>> PhiModel::Load(const std::string& dir) {
  if (IsGgufFile(dir)) {
    LOOM_ASSIGN_OR_RETURN(auto file, GgufFile::Open(dir));
    LOOM_ASSIGN_OR_RETURN(PhiConfig config, PhiConfigFromGguf(*file));
    LOOM_ASSIGN_OR_RETURN(PhiWeights weights, PhiWeightsFromGguf(*file, config));
    return std::make_unique<PhiModel>(std::move(config), std::move(weights));
  }
  LOOM_ASSIGN_OR_RETURN(PhiConfig config, ReadPhiConfig(dir));
  LOOM_ASSIGN_OR_RETURN(auto ckpt, Checkpoint::Open(dir));
  LOOM_ASSIGN_OR_RETURN(PhiWeights weights, LoadWeights(*ckpt, config));
  return std::make_unique<PhiModel>(std::move(config), std::move(weights));
}

PhiModel::PhiModel(PhiConfig config, PhiWeights weights)
    : config_(std::move(config)), weights_(std::move(weights)) {}

KvCache PhiModel::NewCache() const {
  KvCache cache;
  cache.k.resize(static_cast<size_t>(config_.layers));
  cache.v.resize(static_cast<size_t>(config_.layers));
  return cache;
}

Status PhiModel::Forward(std::span<const int32_t> tokens, KvCache& cache,
                         std::vector<float>& logits, bool all_logits) const {
  const PhiConfig& c = config_;
  const int64_t t = static_cast<int64_t>(tokens.size());
  if (t == 0) return InvalidArgumentError("phi forward: no tokens");
  for (int64_t i = 0; i < t; ++i)
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size)
      return InvalidArgumentError(StrCat("phi forward: token ", tokens[i], " at index ", i,
                                         " is outside the vocabulary [0, ", c.vocab_size, ")"));
  if (cache.k.size() != static_cast<size_t>(c.layers))
    return InvalidArgumentError("phi forward: cache was not made by this model");
  if (!huge_pages_advised_.exchange(true)) AdviseWeightHugePages(weights_);
  const int64_t pos0 = cache.length, total = pos0 + t, h = c.hidden;
  const size_t kv_elems = static_cast<size_t>(total * c.kv_heads * c.head_dim);
  for (int64_t l = 0; l < c.layers; ++l) {
    if (cache.k[l].size() < kv_elems) {
      // Grow geometrically so decode appends are amortised O(1).
      const size_t cap = std::max(kv_elems, cache.k[l].size() * 2);
      cache.k[l].resize(cap);
      cache.v[l].resize(cap);
    }
  }
  std::vector<float> x(static_cast<size_t>(t * h));
  for (int64_t r = 0; r < t; ++r)
    std::copy_n(weights_.embed.data() + tokens[r] * h, h, x.data() + r * h);
  // HF picks the LongRoPE factor set from the largest position of this call.
  const RopeParams rope = RopeFor(c, total);
  const int64_t rows = all_logits ? t : 1;
  for (int64_t l = 0; l < c.layers; ++l) {
    const LayerWeights& w = weights_.layers[l];
    // Every layer fills the cache for all t positions; only the last one can skip the rows
    // no logit needs.
    const int64_t keep = l + 1 == c.layers ? rows : t;
    if (c.arch == Arch::kPhi)
      PhiBlockForward(c, w, rope, pos0, t, keep, x.data(), cache.k[l].data(), cache.v[l].data());
    else
      Phi3BlockForward(c, w, rope, pos0, t, keep, x.data(), cache.k[l].data(),
                       cache.v[l].data());
  }
  cache.length = total;
  const float* last = x.data() + (t - rows) * h;
  std::vector<float> normed(static_cast<size_t>(rows * h));
  if (c.arch == Arch::kPhi)
    LayerNormRows(last, rows, h, weights_.final_norm_w.data(), weights_.final_norm_b.data(),
                  c.norm_eps, normed.data());
  else
    RmsNormRows(last, rows, h, weights_.final_norm_w.data(), c.norm_eps, normed.data());
  logits.resize(static_cast<size_t>(rows * c.vocab_size));
  LinearForward(weights_.lm_head, normed.data(), rows, logits.data());
  return OkStatus();
}

}  // namespace loom::phi
