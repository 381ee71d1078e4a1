// The fp32 building blocks of both phi block types, batched over T tokens: Linear (through
// tensor::Gemm), LayerNorm, RMSNorm, gelu_new, SwiGLU, NeoX partial RoPE (with LongRoPE
// factors) and causal / sliding-window attention with GQA over a KV cache.
// Thread-safety: pure functions over caller memory; Attention parallelises over the default
// pool.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "loom/phi/config.h"
#include "loom/phi/weights.h"

namespace loom::phi {

// y[T x out] = x[T x in] W^T + b.
void LinearForward(const Linear& l, const float* x, int64_t t, float* y);

// PyTorch LayerNorm / Phi3RMSNorm over rows of width n.
void LayerNormRows(const float* x, int64_t t, int64_t n, const float* w, const float* b,
                   double eps, float* y);
void RmsNormRows(const float* x, int64_t t, int64_t n, const float* w, double eps, float* y);

// gelu_new (tanh approximation), in place.
void GeluNew(float* x, int64_t n);
// gate_up rows [gate | up] of width 2f -> out rows silu(gate) * up of width f.
void SwiGlu(const float* gate_up, int64_t t, int64_t f, float* out);

// Inverse frequencies of the rotary slice (rotary_dim / 2 values): theta^(-2i/d), divided by
// the LongRoPE factors when given.
std::vector<float> InverseFrequencies(const PhiConfig& c, const std::vector<float>* factors);

// The factor set and scale HF uses for a forward pass whose largest position is max_pos - 1:
// LongRoPE long factors when max_pos > original_max_position, short otherwise.
struct RopeParams {
  std::vector<float> inv_freq;
  float scale = 1.0f;  // LongRoPE attention factor applied to cos and sin
};
RopeParams RopeFor(const PhiConfig& c, int64_t max_pos);

// Rotates the first rotary_dim channels of each of `heads` vectors (stride head_dim) at
// position pos, NeoX pairing (i with i + rotary_dim/2).
void ApplyRope(float* x, int64_t heads, int64_t head_dim, int64_t rotary_dim, int64_t pos,
               const RopeParams& rope);

// Splits T fused [q | k | v] rows (stride qkv_stride) at positions pos0.. into q [T x H x d]
// and the KV cache rows k, v [positions x KV x d], rotating q and k on the way. Shared by both
// block types, whose attention input differs only in the norm before it.
void SplitQkvWithRope(float* qkv, int64_t qkv_stride, int64_t t, int64_t pos0,
                      const PhiConfig& c, const RopeParams& rope, float* q, float* k, float* v);

// Causal attention of T queries at positions pos0..pos0+T-1 against keys/values 0..pos0+T-1.
// q: [T x H x d]; k, v: [positions x KV x d]; out: [T x H x d]. Query i sees keys j with
// i - window < j <= i when window is set.
void Attention(const float* q, int64_t t, int64_t pos0, const float* k, const float* v,
               int64_t heads, int64_t kv_heads, int64_t head_dim, std::optional<int64_t> window,
               float* out);

}  // namespace loom::phi
