// fp32 ops of the phi blocks; see ops.h.
#include "loom/phi/ops.h"

#include <algorithm>
#include <cmath>

#include "loom/base/thread_pool.h"
#include "loom/phi/gemm_avx512.h"
#include "loom/phi/kernels_avx512.h"
#include "loom/tensor/gemm.h"
#include "loom/tensor/vector_ops.h"

namespace loom::phi {

namespace {

// Decode: one matrix-vector product per token over packed rows, activations quantized to
// Q8_0 for the Q types (as ggml-cpu does), rows split across the default pool.
void PackedMatVec(const Linear& l, const float* x, float* y) {
  const size_t row = RowBytes(l.type, l.in);
  std::vector<uint8_t> xq;
  const void* act = x;
  if (l.type == WeightType::kQ8_0 || l.type == WeightType::kQ4_0) {
    xq.resize(RowBytes(WeightType::kQ8_0, l.in));
    QuantizeRowQ8_0(x, l.in, xq.data());
    act = xq.data();
  }
  ParallelFor(l.out, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r)
      y[r] = DotRow(l.type, l.packed.data() + r * row, act, l.in);
  });
}

// Prefill: dequantize blocks of rows to fp32 and run them through the GEMM.
void PackedGemm(const Linear& l, const float* x, int64_t t, float* y) {
  constexpr int64_t kRows = 128;
  const size_t row = RowBytes(l.type, l.in);
  std::vector<float> tile(static_cast<size_t>(kRows * l.in));
  for (int64_t r0 = 0; r0 < l.out; r0 += kRows) {
    const int64_t rows = std::min(kRows, l.out - r0);
    ParallelFor(rows, 8, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r)
        DequantizeRow(l.type, l.packed.data() + (r0 + r) * row, l.in, tile.data() + r * l.in);
    });
    tensor::Gemm(tensor::Transpose::kNo, tensor::Transpose::kYes, static_cast<int>(t),
                 static_cast<int>(rows), static_cast<int>(l.in), 1.0f, x,
                 static_cast<int>(l.in), tile.data(), static_cast<int>(l.in), 0.0f, y + r0,
                 static_cast<int>(l.out));
  }
}

// Whether the AVX-512 kernels take this layer for t tokens. The int8 GEMM needs whole block
// pairs. F32 / F16 decode (up to 4 tokens) runs the row tiles of kernels_avx512.h, prefill
// the cache-blocked GEMM of gemm_avx512.h (the plain row tile streams every token's
// activations from L2 for each group of 4 rows and lost to OpenBLAS there).
bool UseAvx512(const Linear& l, int64_t t) {
  if (!HaveAvx512Kernels()) return false;
  switch (l.type) {
    case WeightType::kF32:
    case WeightType::kF16: return true;
    case WeightType::kQ8_0:
    case WeightType::kQ4_0: return l.in % 64 == 0;
  }
  return false;
}

// Up to this many tokens the row tiles of kernels_avx512.h run (the weights stream once, from
// memory); more go through the blocked GEMMs of gemm_avx512.h.
constexpr int64_t kMaxRowTileTokens = 4;

// Rows split over the default pool in groups of 4 (the kernels' register tile); decode
// streams the weights once across both threads.
void Avx512Linear(const Linear& l, const float* x, int64_t t, float* y) {
  const int64_t tiles = (l.out + 3) / 4;
  const int64_t min_tiles = t == 1 ? 16 : 2;
  if ((l.type == WeightType::kQ8_0 || l.type == WeightType::kQ4_0) && t > kMaxRowTileTokens) {
    QGemmAvx512(l.type, l.packed.data(), l.in, l.out, x, t, y);
  } else if (l.type == WeightType::kQ8_0 || l.type == WeightType::kQ4_0) {
    // Reused (no allocation per token). Named through a reference: a thread_local named in
    // the lambda would resolve to the worker's own, empty instance.
    thread_local QActivations storage;
    QActivations& act = storage;
    PrepareQActivations(l.type, x, t, l.in, act);
    ParallelFor(tiles, min_tiles, [&](int64_t b, int64_t e) {
      QMatMulAvx512(l.packed.data(), 4 * b, std::min(4 * e, l.out), act, y, l.out);
    });
  } else {
    const uint8_t* w = l.type == WeightType::kF32
                           ? reinterpret_cast<const uint8_t*>(l.w.data())
                           : l.packed.data();
    if (t > kMaxRowTileTokens) {
      FGemmAvx512(l.type, w, l.in, l.out, x, t, y);
    } else {
      ParallelFor(tiles, min_tiles, [&](int64_t b, int64_t e) {
        FMatMulAvx512(l.type, w, l.in, 4 * b, std::min(4 * e, l.out), x, t, y, l.out);
      });
    }
  }
  if (!l.b.empty())
    for (int64_t r = 0; r < t; ++r)
      for (int64_t j = 0; j < l.out; ++j) y[r * l.out + j] += l.b[j];
}

}  // namespace

void LinearForward(const Linear& l, const float* x, int64_t t, float* y) {
  if (UseAvx512(l, t)) return Avx512Linear(l, x, t, y);
  if (l.type != WeightType::kF32) {
    if (t <= 4) {
      for (int64_t r = 0; r < t; ++r) PackedMatVec(l, x + r * l.in, y + r * l.out);
    } else {
      PackedGemm(l, x, t, y);
    }
    if (!l.b.empty())
      for (int64_t r = 0; r < t; ++r)
        for (int64_t j = 0; j < l.out; ++j) y[r * l.out + j] += l.b[j];
    return;
  }
  if (t == 1) {
    // Decode: a GEMV split by rows over the pool streams W once at full bandwidth.
    ParallelFor(l.out, 16, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        y[r] = tensor::Dot(l.w.data() + r * l.in, x, static_cast<size_t>(l.in)) +
               (l.b.empty() ? 0.0f : l.b[r]);
    });
    return;
  }
  tensor::Gemm(tensor::Transpose::kNo, tensor::Transpose::kYes, static_cast<int>(t),
               static_cast<int>(l.out), static_cast<int>(l.in), 1.0f, x, static_cast<int>(l.in),
               l.w.data(), static_cast<int>(l.in), 0.0f, y, static_cast<int>(l.out));
  if (!l.b.empty())
    for (int64_t r = 0; r < t; ++r)
      for (int64_t j = 0; j < l.out; ++j) y[r * l.out + j] += l.b[j];
}

void LayerNormRows(const float* x, int64_t t, int64_t n, const float* w, const float* b,
                   double eps, float* y) {
  for (int64_t r = 0; r < t; ++r) {
    const float* xr = x + r * n;
    double mean = 0;
    for (int64_t i = 0; i < n; ++i) mean += xr[i];
    mean /= n;
    double var = 0;
    for (int64_t i = 0; i < n; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= n;  // biased, as nn.LayerNorm
    const double inv = 1.0 / std::sqrt(var + eps);
    for (int64_t i = 0; i < n; ++i)
      y[r * n + i] = static_cast<float>((xr[i] - mean) * inv) * w[i] + (b ? b[i] : 0.0f);
  }
}

void RmsNormRows(const float* x, int64_t t, int64_t n, const float* w, double eps, float* y) {
  for (int64_t r = 0; r < t; ++r) {
    const float* xr = x + r * n;
    double ss = 0;
    for (int64_t i = 0; i < n; ++i) ss += double(xr[i]) * xr[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / n + eps));
    for (int64_t i = 0; i < n; ++i) y[r * n + i] = w[i] * (xr[i] * inv);
  }
}

void GeluNew(float* x, int64_t n) {
  if (HaveAvx512Kernels()) return GeluNewAvx512(x, n);
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    x[i] = 0.5f * v * (1.0f + std::tanh(k * (v + 0.044715f * v * v * v)));
  }
}

void SwiGlu(const float* gate_up, int64_t t, int64_t f, float* out) {
  if (HaveAvx512Kernels()) return SwiGluAvx512(gate_up, t, f, out);
  for (int64_t r = 0; r < t; ++r) {
    const float* g = gate_up + r * 2 * f;
    const float* u = g + f;
    for (int64_t i = 0; i < f; ++i) out[r * f + i] = u[i] * (g[i] / (1.0f + std::exp(-g[i])));
  }
}

std::vector<float> InverseFrequencies(const PhiConfig& c, const std::vector<float>* factors) {
  const int64_t half = c.rotary_dim / 2;
  std::vector<float> inv(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    // HF: base ** (arange(0, dim, 2) / dim) in fp32, then 1 / (factor * that).
    const float expo = static_cast<float>(2 * i) / static_cast<float>(c.rotary_dim);
    const float p = static_cast<float>(std::pow(c.rope_theta, static_cast<double>(expo)));
    const float f = factors ? (*factors)[i] : 1.0f;
    inv[i] = 1.0f / (f * p);
  }
  return inv;
}

RopeParams RopeFor(const PhiConfig& c, int64_t max_pos) {
  RopeParams r;
  if (!c.longrope) {
    r.inv_freq = InverseFrequencies(c, nullptr);
    return r;
  }
  const bool use_long = max_pos > c.longrope->original_max_position;
  r.inv_freq = InverseFrequencies(c, use_long ? &c.longrope->long_factor
                                              : &c.longrope->short_factor);
  r.scale = c.longrope->attention_factor;
  return r;
}

void ApplyRope(float* x, int64_t heads, int64_t head_dim, int64_t rotary_dim, int64_t pos,
               const RopeParams& rope) {
  const int64_t half = rotary_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(pos) * rope.inv_freq[i];  // fp32, as HF
    const float c = static_cast<float>(std::cos(angle)) * rope.scale;
    const float s = static_cast<float>(std::sin(angle)) * rope.scale;
    for (int64_t h = 0; h < heads; ++h) {
      float* v = x + h * head_dim;
      const float a = v[i], b = v[i + half];
      v[i] = a * c - b * s;
      v[i + half] = b * c + a * s;
    }
  }
}

void Attention(const float* q, int64_t t, int64_t pos0, const float* k, const float* v,
               int64_t heads, int64_t kv_heads, int64_t head_dim, std::optional<int64_t> window,
               float* out) {
  const int64_t group = heads / kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  const int64_t kv_stride = kv_heads * head_dim;
  ParallelFor(t * heads, 1, [&](int64_t begin, int64_t end) {
    std::vector<float> scores(static_cast<size_t>(pos0 + t));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t r = task / heads, h = task % heads;
      const int64_t i = pos0 + r, kvh = h / group;
      const int64_t lo = window ? std::max<int64_t>(0, i - *window + 1) : 0;
      const float* qv = q + (r * heads + h) * head_dim;
      float mx = -INFINITY;
      for (int64_t j = lo; j <= i; ++j) {
        scores[j] = tensor::Dot(qv, k + j * kv_stride + kvh * head_dim, head_dim) * scale;
        mx = std::max(mx, scores[j]);
      }
      double sum = 0;
      for (int64_t j = lo; j <= i; ++j) {
        scores[j] = std::exp(scores[j] - mx);
        sum += scores[j];
      }
      float* o = out + (r * heads + h) * head_dim;
      std::fill(o, o + head_dim, 0.0f);
      const float inv = static_cast<float>(1.0 / sum);
      for (int64_t j = lo; j <= i; ++j)
        tensor::Axpy(scores[j] * inv, v + j * kv_stride + kvh * head_dim, o, head_dim);
    }
  });
}

void SplitQkvWithRope(float* qkv, int64_t qkv_stride, int64_t t, int64_t pos0,
                      const PhiConfig& c, const RopeParams& rope, float* q, float* k, float* v) {
  const int64_t d = c.head_dim, qd = c.heads * d, kvd = c.kv_heads * d;
  for (int64_t r = 0; r < t; ++r) {
    float* row = qkv + r * qkv_stride;
    ApplyRope(row, c.heads, d, c.rotary_dim, pos0 + r, rope);
    ApplyRope(row + qd, c.kv_heads, d, c.rotary_dim, pos0 + r, rope);
    std::copy_n(row, qd, q + r * qd);
    std::copy_n(row + qd, kvd, k + (pos0 + r) * kvd);
    std::copy_n(row + qd + kvd, kvd, v + (pos0 + r) * kvd);
  }
}

}  // namespace loom::phi
