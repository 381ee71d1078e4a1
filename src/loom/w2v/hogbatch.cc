#include "loom/w2v/hogbatch.h"

#include <cstring>

#include "loom/w2v/kernels.h"

namespace loom::w2v {

LOOM_W2V_ISA_CLONES void HogBatchUpdate(const int32_t* inputs, int b, const int32_t* outputs, const float* mult,
                    int o, float alpha, int64_t dim, const SigmoidTable& sigmoid, float* syn0,
                    float* syn1neg, HogBatchScratch* s) {
  const size_t d = static_cast<size_t>(dim);
  s->in.resize(static_cast<size_t>(b) * d);
  s->out.resize(static_cast<size_t>(o) * d);
  s->grad.resize(static_cast<size_t>(o) * static_cast<size_t>(b));
  s->d_in.assign(static_cast<size_t>(b) * d, 0.0f);
  s->d_out.assign(static_cast<size_t>(o) * d, 0.0f);
  float* in = s->in.data();
  float* out = s->out.data();
  float* g = s->grad.data();
  // The snapshot: all three products read these copies.
  for (int i = 0; i < b; ++i)
    std::memcpy(in + static_cast<size_t>(i) * d, syn0 + static_cast<int64_t>(inputs[i]) * dim, d * sizeof(float));
  for (int j = 0; j < o; ++j)
    std::memcpy(out + static_cast<size_t>(j) * d, syn1neg + static_cast<int64_t>(outputs[j]) * dim, d * sizeof(float));
  // GEMM 1 and the elementwise gradient.
  for (int j = 0; j < o; ++j) {
    const float label = j == 0 ? 1.0f : 0.0f;
    for (int i = 0; i < b; ++i) {
      float f = FastOps::Dot(out + static_cast<size_t>(j) * d, in + static_cast<size_t>(i) * d, dim);
      float e;
      if (f > kMaxExp) e = label - 1;
      else if (f < -kMaxExp) e = label;
      else e = label - sigmoid(f);
      g[j * b + i] = e * alpha * mult[j];
    }
  }
  // GEMM 2: dO = G I, and GEMM 3: dI = G^T O, as rank-1 axpy sweeps over contiguous rows.
  for (int j = 0; j < o; ++j) {
    float* dj = s->d_out.data() + static_cast<size_t>(j) * d;
    for (int i = 0; i < b; ++i) FastOps::Axpy(g[j * b + i], in + static_cast<size_t>(i) * d, dj, dim);
  }
  for (int i = 0; i < b; ++i) {
    float* di = s->d_in.data() + static_cast<size_t>(i) * d;
    for (int j = 0; j < o; ++j) FastOps::Axpy(g[j * b + i], out + static_cast<size_t>(j) * d, di, dim);
  }
  for (int j = 0; j < o; ++j)
    FastOps::Add(s->d_out.data() + static_cast<size_t>(j) * d, syn1neg + static_cast<int64_t>(outputs[j]) * dim, dim);
  for (int i = 0; i < b; ++i)
    FastOps::Add(s->d_in.data() + static_cast<size_t>(i) * d, syn0 + static_cast<int64_t>(inputs[i]) * dim, dim);
}

}  // namespace loom::w2v
