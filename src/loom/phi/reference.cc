// The oracle forward pass; see reference.h.
#include "loom/phi/reference.h"

#include <cmath>

namespace loom::phi {
namespace {

using Mat = std::vector<std::vector<double>>;  // [T][n]

Mat Apply(const Mat& x, const Linear& l) {
  Mat y(x.size(), std::vector<double>(l.out));
  for (size_t r = 0; r < x.size(); ++r)
    for (int64_t o = 0; o < l.out; ++o) {
      double s = l.b.empty() ? 0.0 : l.b[o];
      for (int64_t i = 0; i < l.in; ++i) s += double(l.w[o * l.in + i]) * x[r][i];
      y[r][o] = s;
    }
  return y;
}

Mat Norm(const Mat& x, const std::vector<float>& w, const std::vector<float>& b, bool rms,
         double eps) {
  Mat y = x;
  for (auto& row : y) {
    const double n = static_cast<double>(row.size());
    double mean = 0, sq = 0;
    for (double v : row) mean += v;
    mean = rms ? 0.0 : mean / n;
    for (double v : row) sq += (v - mean) * (v - mean);
    const double inv = 1.0 / std::sqrt(sq / n + eps);
    for (size_t i = 0; i < row.size(); ++i)
      row[i] = (row[i] - mean) * inv * w[i] + (b.empty() ? 0.0 : b[i]);
  }
  return y;
}

// NeoX rotation of the first rotary_dim channels of head `h` (width d) in row `x`.
void Rotate(std::vector<double>& x, int64_t h, int64_t d, int64_t rot, int64_t pos,
            const PhiConfig& c, const std::vector<float>* factors, double scale) {
  for (int64_t i = 0; i < rot / 2; ++i) {
    const double f = factors ? (*factors)[i] : 1.0;
    const double inv = 1.0 / (f * std::pow(c.rope_theta, 2.0 * i / rot));
    const double cs = std::cos(pos * inv) * scale, sn = std::sin(pos * inv) * scale;
    const double a = x[h * d + i], b = x[h * d + i + rot / 2];
    x[h * d + i] = a * cs - b * sn;
    x[h * d + i + rot / 2] = b * cs + a * sn;
  }
}

}  // namespace

std::vector<float> ReferenceForward(const PhiConfig& c, const PhiWeights& w,
                                    std::span<const int32_t> tokens) {
  const int64_t T = static_cast<int64_t>(tokens.size()), n = c.hidden, d = c.head_dim;
  const int64_t H = c.heads, KV = c.kv_heads, f = c.intermediate;
  const std::vector<float>* factors = nullptr;
  double scale = 1.0;
  if (c.longrope) {
    factors = T > c.longrope->original_max_position ? &c.longrope->long_factor
                                                     : &c.longrope->short_factor;
    scale = c.longrope->attention_factor;
  }
  Mat h(T, std::vector<double>(n));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t i = 0; i < n; ++i) h[t][i] = w.embed[tokens[t] * n + i];
  const bool phi3 = c.arch == Arch::kPhi3;
  for (const LayerWeights& L : w.layers) {
    Mat x = Norm(h, L.norm1_w, L.norm1_b, phi3, c.norm_eps);
    Mat qkv = Apply(x, L.qkv);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t hh = 0; hh < H; ++hh) Rotate(qkv[t], hh, d, c.rotary_dim, t, c, factors, scale);
      for (int64_t hh = 0; hh < KV; ++hh)
        Rotate(qkv[t], H + hh, d, c.rotary_dim, t, c, factors, scale);
    }
    Mat attn(T, std::vector<double>(H * d, 0.0));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t hh = 0; hh < H; ++hh) {
        const int64_t kh = H + hh / (H / KV), vh = H + KV + hh / (H / KV);
        std::vector<double> p(T, 0.0);
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j <= t; ++j) {
          if (phi3 && c.sliding_window && j <= t - *c.sliding_window) continue;
          double s = 0;
          for (int64_t i = 0; i < d; ++i) s += qkv[t][hh * d + i] * qkv[j][kh * d + i];
          p[j] = s / std::sqrt(double(d));
          mx = std::max(mx, p[j]);
        }
        for (int64_t j = 0; j <= t; ++j) {
          if (phi3 && c.sliding_window && j <= t - *c.sliding_window) { p[j] = 0; continue; }
          p[j] = std::exp(p[j] - mx);
          sum += p[j];
        }
        for (int64_t j = 0; j <= t; ++j)
          for (int64_t i = 0; i < d; ++i) attn[t][hh * d + i] += p[j] / sum * qkv[j][vh * d + i];
      }
    Mat o = Apply(attn, L.o);
    if (!phi3) {
      Mat ff = Apply(x, L.up);
      for (auto& row : ff)
        for (double& v : row)
          v = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
      Mat mlp = Apply(ff, L.down);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < n; ++i) h[t][i] += o[t][i] + mlp[t][i];
    } else {
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < n; ++i) h[t][i] += o[t][i];
      Mat x2 = Norm(h, L.norm2_w, {}, true, c.norm_eps);
      Mat gu = Apply(x2, L.up);
      Mat act(T, std::vector<double>(f));
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < f; ++i) {
          const double g = gu[t][i];
          act[t][i] = g / (1.0 + std::exp(-g)) * gu[t][f + i];
        }
      Mat down = Apply(act, L.down);
      for (int64_t t = 0; t < T; ++t)
        for (int64_t i = 0; i < n; ++i) h[t][i] += down[t][i];
    }
  }
  Mat fin = Norm(h, w.final_norm_w, w.final_norm_b, phi3, c.norm_eps);
  Mat logits = Apply(fin, w.lm_head);
  std::vector<float> out;
  for (const auto& row : logits)
    for (double v : row) out.push_back(static_cast<float>(v));
  return out;
}

}  // namespace loom::phi
