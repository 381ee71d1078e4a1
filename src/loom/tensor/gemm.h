// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, op = transpose or not.
// Gemm calls OpenBLAS; GemmReference is the plain triple loop kept as the test oracle.
// Thread-safety: calls are independent; OpenBLAS's thread count is process-wide.
#pragma once

namespace loom::tensor {

enum class Transpose { kNo, kYes };

// A is m x k (k x m if transposed) with leading dimension lda; B is k x n (n x k if
// transposed) with ldb; C is m x n with ldc.
void Gemm(Transpose ta, Transpose tb, int m, int n, int k, float alpha, const float* a, int lda,
          const float* b, int ldb, float beta, float* c, int ldc);

void GemmReference(Transpose ta, Transpose tb, int m, int n, int k, float alpha, const float* a,
                   int lda, const float* b, int ldb, float beta, float* c, int ldc);

// Threads OpenBLAS may use inside one Gemm call (1 when the caller parallelises itself).
void SetBlasThreads(int n);

}  // namespace loom::tensor
