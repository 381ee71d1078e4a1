// Row-major single-precision GEMM: C = alpha * op(A) * op(B) + beta * C, op = transpose or not.
// Gemm calls OpenBLAS; GemmReference is the plain triple loop kept as the test oracle.
// Thread-safety: calls are independent; OpenBLAS's thread count is process-wide.
#pragma once

#include <string>

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

// OpenBLAS's kernel family ("SkylakeX", "Haswell", "Prescott", ...). blas_core.cc
std::string BlasCoreName();
// Debian 12's OpenBLAS (0.3.21) does not know CPUs newer than its tables and falls back to
// generic SSE3 kernels (Sapphire Rapids: "Prescott", about 3x slower SGEMM). Returns the family
// to force instead ("SkylakeX" with AVX-512, "Haswell" with AVX2), or "" when the detected one
// is fine or OPENBLAS_CORETYPE is already set.
std::string PreferredBlasCore();
// Call first thing in main(): when PreferredBlasCore() names a family, sets OPENBLAS_CORETYPE
// and re-executes the program (OpenBLAS reads it only at load). Returns when nothing is needed
// or the exec fails.
void ReexecWithPreferredBlasCore(char** argv);

}  // namespace loom::tensor
