// Batched (prefill) GEMMs with AVX-512 (Q8_0 / Q4_0: see QGemmAvx512 below), and first the
// fp32 GEMM over F32 or F16 weight rows with AVX-512, driven by loom's
// default thread pool: y[T x out] = x[T x n] W^T, W stored row-major [out x n] as in
// nn.Linear (F16 rows in IEEE half, the layout QuantizeWeights and GGUF use; nothing is
// repacked).
//
// Why not OpenBLAS: its SGEMM packs both operands on every call (the activations once per
// 128-row weight tile when F16 weights had to be dequantized first) and runs its own threads
// beside loom's pool. Here each task owns a block of 32 weight rows and walks k in chunks of
// 128: the chunk is transposed (F16 converted on the way) into an L1 panel where two 64-byte
// vectors hold one k of all 32 rows, and every token then meets it in tiles of up to 12
// tokens: per k two panel loads and 24 FMAs with broadcast activations (two rows of vectors
// keep the loads under the FMAs), into accumulators that are y[token][r0..r0+32] itself (no
// horizontal sums; chunks after the first add to y). The
// summation order is k ascending, as a plain dot product, in fp32 with fused multiply-adds.
//
// Thread-safety: pure function over caller memory; uses the default pool (nested calls from a
// pool worker run inline).
#pragma once

#include <cstdint>

#include "loom/phi/quant.h"

namespace loom::phi {

// y[j * out + r] = sum_k x[j * n + k] * W[r][k] for every token j < tokens and row r < out.
// t is kF32 (w: out x n floats) or kF16 (w: out x n halves); any n >= 1. Requires
// HaveAvx512Kernels().
void FGemmAvx512(WeightType t, const uint8_t* w, int64_t n, int64_t out, const float* x,
                 int64_t tokens, float* y);

// The same for Q8_0 / Q4_0 rows (RowBytes(t, n) bytes each, n a multiple of 32) against the
// tokens quantized to Q8_0 once per call (as ggml-cpu and the decode kernels do): the
// interleaved int8 GEMM of qgemm_avx512.cc. Requires HaveAvx512Kernels().
void QGemmAvx512(WeightType t, const uint8_t* w, int64_t n, int64_t out, const float* x,
                 int64_t tokens, float* y);

// n IEEE halves -> n floats (F16C in 512-bit registers, masked tail). Requires
// HaveAvx512Kernels().
void F16RowToF32Avx512(const uint8_t* src, int64_t n, float* dst);

}  // namespace loom::phi
