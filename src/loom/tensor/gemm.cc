#include "loom/tensor/gemm.h"

#include <cblas.h>

extern "C" void openblas_set_num_threads(int num_threads);

namespace loom::tensor {

void Gemm(Transpose ta, Transpose tb, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc) {
  if (m == 0 || n == 0) return;
  cblas_sgemm(CblasRowMajor, ta == Transpose::kYes ? CblasTrans : CblasNoTrans,
              tb == Transpose::kYes ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb,
              beta, c, ldc);
}

void GemmReference(Transpose ta, Transpose tb, int m, int n, int k, float alpha, const float* a,
                   int lda, const float* b, int ldb, float beta, float* c, int ldc) {
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      double acc = 0;
      for (int p = 0; p < k; ++p) {
        float av = ta == Transpose::kNo ? a[i * lda + p] : a[p * lda + i];
        float bv = tb == Transpose::kNo ? b[p * ldb + j] : b[j * ldb + p];
        acc += static_cast<double>(av) * bv;
      }
      float prev = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];  // beta 0 ignores NaN in C
      c[i * ldc + j] = static_cast<float>(alpha * acc) + prev;
    }
  }
}

void SetBlasThreads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

}  // namespace loom::tensor
