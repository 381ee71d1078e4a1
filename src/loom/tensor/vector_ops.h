// Float vector kernels used in inner loops (word2vec updates, norms, residual adds). Written
// as simple loops over restrict pointers so the compiler vectorises them; no allocation.
// Thread-safety: pure functions on caller memory.
#pragma once

#include <cstddef>

namespace loom::tensor {

inline float Dot(const float* __restrict a, const float* __restrict b, size_t n) {
  // Four partial sums break the dependency chain and let the loop vectorise.
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; ++i) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

// y += alpha * x
inline void Axpy(float alpha, const float* __restrict x, float* __restrict y, size_t n) {
  for (size_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

// x *= alpha
inline void Scale(float alpha, float* x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] *= alpha;
}

}  // namespace loom::tensor
