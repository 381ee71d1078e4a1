// The PhiForCausalLM block (phi-1, phi-1.5, phi-2): one LayerNorm feeds attention and the MLP
// in parallel, h = h + dense(attn(x)) + fc2(gelu_new(fc1(x))), every Linear biased, RoPE on
// the first rotary_dim channels of each head.
#include "loom/phi/model.h"

namespace loom::phi {

void PhiBlockForward(const PhiConfig& c, const LayerWeights& w, const RopeParams& rope,
                     int64_t pos0, int64_t t, int64_t keep, float* h, float* k, float* v) {
  const int64_t n = c.hidden, d = c.head_dim, qd = c.heads * d, skip = t - keep;
  std::vector<float> x(static_cast<size_t>(t * n));
  LayerNormRows(h, t, n, w.norm1_w.data(), w.norm1_b.data(), c.norm_eps, x.data());
  std::vector<float> qkv(static_cast<size_t>(t * w.qkv.out));
  LinearForward(w.qkv, x.data(), t, qkv.data());
  std::vector<float> q(static_cast<size_t>(t * qd));
  SplitQkvWithRope(qkv.data(), w.qkv.out, t, pos0, c, rope, q.data(), k, v);
  // From here on only the kept rows: their queries see every cached key up to themselves.
  std::vector<float> attn(static_cast<size_t>(keep * qd));
  Attention(q.data() + skip * qd, keep, pos0 + skip, k, v, c.heads, c.kv_heads, d, std::nullopt,
            attn.data());
  std::vector<float> out(static_cast<size_t>(keep * n));
  LinearForward(w.o, attn.data(), keep, out.data());
  const float* xk = x.data() + skip * n;
  std::vector<float> ff(static_cast<size_t>(keep * c.intermediate));
  LinearForward(w.up, xk, keep, ff.data());
  GeluNew(ff.data(), keep * c.intermediate);
  std::vector<float> mlp(static_cast<size_t>(keep * n));
  LinearForward(w.down, ff.data(), keep, mlp.data());
  float* hk = h + skip * n;
  for (int64_t i = 0; i < keep * n; ++i) hk[i] += out[i] + mlp[i];
}

}  // namespace loom::phi
