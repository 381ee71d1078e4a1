// The Phi3ForCausalLM block (Phi-3/3.5, phi-4, Phi-4-mini): sequential pre-norm residuals,
// h = h + o_proj(attn(RMSNorm1(h))); h = h + down(silu(gate) * up), [gate | up] from the fused
// gate_up_proj; fused qkv with GQA; optional sliding window.
#include "loom/phi/model.h"

namespace loom::phi {

void Phi3BlockForward(const PhiConfig& c, const LayerWeights& w, const RopeParams& rope,
                      int64_t pos0, int64_t t, int64_t keep, float* h, float* k, float* v) {
  const int64_t n = c.hidden, d = c.head_dim, qd = c.heads * d, skip = t - keep;
  const int64_t f = c.intermediate;
  std::vector<float> x(static_cast<size_t>(t * n));
  RmsNormRows(h, t, n, w.norm1_w.data(), c.norm_eps, x.data());
  std::vector<float> qkv(static_cast<size_t>(t * w.qkv.out));
  LinearForward(w.qkv, x.data(), t, qkv.data());
  std::vector<float> q(static_cast<size_t>(t * qd));
  SplitQkvWithRope(qkv.data(), w.qkv.out, t, pos0, c, rope, q.data(), k, v);
  // From here on only the kept rows: their queries see every cached key up to themselves.
  std::vector<float> attn(static_cast<size_t>(keep * qd));
  Attention(q.data() + skip * qd, keep, pos0 + skip, k, v, c.heads, c.kv_heads, d,
            c.sliding_window, attn.data());
  std::vector<float> out(static_cast<size_t>(keep * n));
  LinearForward(w.o, attn.data(), keep, out.data());
  float* hk = h + skip * n;
  for (int64_t i = 0; i < keep * n; ++i) hk[i] += out[i];
  RmsNormRows(hk, keep, n, w.norm2_w.data(), c.norm_eps, x.data());
  std::vector<float> gate_up(static_cast<size_t>(keep * 2 * f));
  LinearForward(w.up, x.data(), keep, gate_up.data());
  std::vector<float> act(static_cast<size_t>(keep * f));
  SwiGlu(gate_up.data(), keep, f, act.data());
  LinearForward(w.down, act.data(), keep, out.data());
  for (int64_t i = 0; i < keep * n; ++i) hk[i] += out[i];
}

}  // namespace loom::phi
