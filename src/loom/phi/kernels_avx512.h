// AVX-512 matmul kernels of the packed weight formats (quant.h), chosen at run time when the
// CPU has AVX512F/BW/VL/DQ + VNNI (release builds are generic x86-64; the functions carry
// target attributes, so nothing here runs on a CPU without them).
//
// Q8_0 / Q4_0: an int8 GEMM. The activations of all tokens are quantized once per matmul to
// Q8_0 with the reference quantizer (QuantizeRowQ8_0) and laid out for vpdpbusd (which needs
// one unsigned operand):
//   - Q8_0 weights stay signed; the activations are stored biased (x + 128, unsigned) and each
//     weight row's 128 * sum(w) is subtracted again (the int32 lanes are exact);
//   - Q4_0 weights use their raw nibbles 0..15 as the unsigned operand; the activations keep
//     their sign and carry -8 * sum(x) per lane, which folds the nibbles' -8 offset.
// Q8_0: two 32-weight blocks fill one 512-bit register. A register tile of up to 4 weight rows
// x 4 tokens multiplies each block pair once per (row, token): int32 lanes -> fp32, scaled by
// d_w * d_x, accumulated. Q4_0 (q4_matvec_avx512.cc): four blocks per register, and the int32
// dots of 4 rows are summed into one vector before a single conversion and scale FMA per 4 rows
// x 4 blocks. Equal to DotRowReference up to fp32 summation order.
// F32 / F16: fp32 FMAs over the same row x token tiles (F16 converted in registers).
// ops.cc runs these for decode (up to 4 tokens); prefill goes to gemm_avx512.h's GEMMs.
//
// Thread-safety: pure functions over caller memory; QActivations is per caller.
#pragma once

#include <cstdint>
#include <vector>

#include "loom/phi/quant.h"

namespace loom::phi {

// AVX512F/BW/VL/DQ, AVX512-VNNI, FMA and F16C.
bool HaveAvx512Kernels();

// Tokens' activations prepared for the int8 kernels against one weight type (Q8_0 or Q4_0).
struct QActivations {
  WeightType type = WeightType::kQ8_0;
  int64_t tokens = 0, n = 0;
  // Q8_0: tokens x n bytes (x + 128) and tokens x n/64 x 16 lanes of d_x (see the .cc).
  // Q4_0: per token ceil(n/128) groups of 128 bytes, 16 scale lanes and 16 correction lanes
  // (internal/q4_matvec_avx512.h).
  std::vector<uint8_t> q;
  std::vector<float> scale;
  std::vector<int32_t> corr;  // Q4_0 only
};

// Quantizes (in parallel over the default pool) tokens rows of x [tokens x n] (n a multiple of 64) for weights of type t.
void PrepareQActivations(WeightType t, const float* x, int64_t tokens, int64_t n,
                         QActivations& a);

// y[j * ldy + r] = dot(weight row r, token j) for rows [r0, r1) and every prepared token.
// w: packed rows of RowBytes(a.type, a.n) bytes.
void QMatMulAvx512(const uint8_t* w, int64_t r0, int64_t r1, const QActivations& a, float* y,
                   int64_t ldy);

// The same for F32 or F16 rows against fp32 activations x [tokens x n] (any n).
void FMatMulAvx512(WeightType t, const uint8_t* w, int64_t n, int64_t r0, int64_t r1,
                   const float* x, int64_t tokens, float* y, int64_t ldy);

// QuantizeRowQ8_0 (the reference quantizer) with 16-lane arithmetic: the same bytes (amax,
// d = amax / 127 and 1 / d in fp32, round half away from zero, d stored with round-to-nearest-
// even), about 12x faster; prefill quantizes every token of every matmul's input with it.
void QuantizeRowQ8_0Avx512(const float* x, int64_t n, uint8_t* out);

// gelu_new in place and SwiGLU rows ([gate | up] of width 2f -> f), as ops.h's GeluNew and
// SwiGlu, with glibc's 16-lane AVX-512 tanhf / expf (libmvec, within 4 ulp) in place of one
// libm call per element (they took a third of a phi-2 prefill's matmul time).
void GeluNewAvx512(float* x, int64_t n);
void SwiGluAvx512(const float* gate_up, int64_t t, int64_t f, float* out);

}  // namespace loom::phi
