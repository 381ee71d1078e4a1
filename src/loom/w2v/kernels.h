// Inner-loop kernels of the trainers, in two flavours with one interface:
// - SequentialOps: word2vec.c's loops (a left-to-right dot), used to check that the fast
//   trainer's control flow (RNG order, windows, learning rate) equals the reference's bitwise;
// - FastOps: a 16-way split dot that the compiler vectorises, and vectorised axpy.
// Thread-safety: pure functions on caller memory.
#pragma once

#include <cstdint>

// Runtime ISA dispatch for the hot loops (GCC function multiversioning: the loader picks the
// AVX-512, AVX2 or baseline clone once, by CPUID). The release build targets baseline x86-64,
// where a 100-float dot is 25 SSE steps. Clones must compute the same float operations in the
// same order: every file using this builds with -ffp-contract=off (AVX-512 implies FMA, which
// would otherwise fuse a*b+c) and the kernels' summation order is fixed in source, so the
// vectors are bit-identical whichever clone runs.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define LOOM_W2V_ISA_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LOOM_W2V_ISA_CLONES
#endif

namespace loom::w2v {

struct SequentialOps {
  static float Dot(const float* a, const float* b, int64_t n) {
    float f = 0;
    for (int64_t k = 0; k < n; k++) f += a[k] * b[k];
    return f;
  }
  // y += g * x
  static void Axpy(float g, const float* x, float* y, int64_t n) {
    for (int64_t k = 0; k < n; k++) y[k] += g * x[k];
  }
  static void Add(const float* x, float* y, int64_t n) {
    for (int64_t k = 0; k < n; k++) y[k] += x[k];
  }
};

struct FastOps {
  static float Dot(const float* __restrict a, const float* __restrict b, int64_t n) {
    float acc[16] = {0};
    int64_t k = 0;
    for (; k + 16 <= n; k += 16)
      for (int j = 0; j < 16; ++j) acc[j] += a[k + j] * b[k + j];
    float tail = 0;
    for (; k < n; ++k) tail += a[k] * b[k];
    for (int j = 0; j < 8; ++j) acc[j] += acc[j + 8];
    for (int j = 0; j < 4; ++j) acc[j] += acc[j + 4];
    return (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail;
  }
  static void Axpy(float g, const float* __restrict x, float* __restrict y, int64_t n) {
    for (int64_t k = 0; k < n; k++) y[k] += g * x[k];
  }
  static void Add(const float* __restrict x, float* __restrict y, int64_t n) {
    for (int64_t k = 0; k < n; k++) y[k] += x[k];
  }
};

// Asks for every cache line of a model row ahead of its use (for writing: the trainers update
// the rows they read). A hint only: it changes no value.
inline void PrefetchRow(const float* row, int64_t n) {
  const char* p = reinterpret_cast<const char*>(row);
  const int64_t bytes = n * static_cast<int64_t>(sizeof(float));
  for (int64_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off, 1, 3);
  __builtin_prefetch(p + bytes - 1, 1, 3);
}

}  // namespace loom::w2v
