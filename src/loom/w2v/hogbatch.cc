#include "loom/w2v/hogbatch.h"

#include <cstring>

#include "loom/w2v/kernels.h"

namespace loom::w2v {
namespace {

// row += sum_t coef[t * stride] * rows[t] (rows: n contiguous rows of d floats), summed per
// element from 0 in t order, then added: ((0 + c0 r0) + c1 r1) + ... and row + that sum.
// Blocks of kBlock floats keep the running sum in vector registers.
[[gnu::always_inline]] inline void AddCombination(const float* coef, int stride,
                                                  const float* __restrict rows, int n, size_t d,
                                                  float* __restrict row) {
  constexpr size_t kBlock = 64;
  size_t c = 0;
  for (; c + kBlock <= d; c += kBlock) {
    float acc[kBlock] = {};
    for (int t = 0; t < n; ++t) {
      const float w = coef[t * stride];
      const float* r = rows + static_cast<size_t>(t) * d + c;
      for (size_t k = 0; k < kBlock; ++k) acc[k] += w * r[k];
    }
    for (size_t k = 0; k < kBlock; ++k) row[c + k] += acc[k];
  }
  if (c < d) {
    float acc[kBlock] = {};
    const size_t m = d - c;
    for (int t = 0; t < n; ++t) {
      const float w = coef[t * stride];
      const float* r = rows + static_cast<size_t>(t) * d + c;
      for (size_t k = 0; k < m; ++k) acc[k] += w * r[k];
    }
    for (size_t k = 0; k < m; ++k) row[c + k] += acc[k];
  }
}

}  // namespace

LOOM_W2V_ISA_CLONES void HogBatchUpdate(const int32_t* inputs, int b, const int32_t* outputs, const float* mult,
                    int o, float alpha, int64_t dim, const SigmoidTable& sigmoid, float* syn0,
                    float* syn1neg, HogBatchScratch* s) {
  const size_t d = static_cast<size_t>(dim);
  s->in.resize(static_cast<size_t>(b) * d);
  s->out.resize(static_cast<size_t>(o) * d);
  s->grad.resize(static_cast<size_t>(o) * static_cast<size_t>(b));
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
  // GEMM 2: dO = G I, and GEMM 3: dI = G^T O, each row of the product summed in registers one
  // column block at a time and added to its model row at once: per element the same float
  // operations in the same order as a zeroed buffer swept by one axpy per term and then added
  // to the row (bit-identical), without the buffer's load and store per term.
  for (int j = 0; j < o; ++j)
    AddCombination(g + j * b, 1, in, b, d, syn1neg + static_cast<int64_t>(outputs[j]) * dim);
  for (int i = 0; i < b; ++i)
    AddCombination(g + i, b, out, o, d, syn0 + static_cast<int64_t>(inputs[i]) * dim);
}

}  // namespace loom::w2v
