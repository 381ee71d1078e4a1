// Weight formats for the fast CPU path: F16 and ggml's Q8_0 / Q4_0 blocks (docs/formats/
// ggml_quant.md), byte-compatible with ggml's reference quantizers:
//   Q8_0: 34 bytes per 32 weights, fp16 d = amax / 127, int8 q = round(x / d) (half away from 0)
//   Q4_0: 18 bytes per 32 weights, m = the element of largest magnitude with its sign,
//         fp16 d = m / -8, q = min(15, trunc(x / d + 8.5)); byte j = q[j] | q[j + 16] << 4
// Dot products take activations quantized to Q8_0 (as ggml-cpu does) for Q weights and fp32
// activations for F16 weights. Each kernel has a scalar reference and an AVX2 version chosen at
// run time (__builtin_cpu_supports), so a portable build still uses AVX2 where present.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/base/status.h"

namespace loom::phi {

enum class WeightType { kF32, kF16, kQ8_0, kQ4_0 };

inline constexpr int64_t kQBlock = 32;
inline constexpr size_t kQ8_0Bytes = 34;
inline constexpr size_t kQ4_0Bytes = 18;

StatusOr<WeightType> ParseWeightType(std::string_view name);  // f32 f16 q8_0 q4_0
std::string_view WeightTypeName(WeightType t);
// Bytes of one row of n weights (n a multiple of 32 for the Q types).
size_t RowBytes(WeightType t, int64_t n);

void QuantizeRowQ8_0(const float* x, int64_t n, uint8_t* out);
void QuantizeRowQ4_0(const float* x, int64_t n, uint8_t* out);
void QuantizeRowF16(const float* x, int64_t n, uint8_t* out);
void QuantizeRow(WeightType t, const float* x, int64_t n, uint8_t* out);
void DequantizeRow(WeightType t, const uint8_t* row, int64_t n, float* out);
// The scalar oracle of DequantizeRow (the fast path must equal it bit for bit).
void DequantizeRowReference(WeightType t, const uint8_t* row, int64_t n, float* out);

// Dot of one weight row (type t) with activations `x`: Q8_0 blocks for Q types, fp32 for F16.
float DotRow(WeightType t, const uint8_t* w, const void* x, int64_t n);
float DotRowReference(WeightType t, const uint8_t* w, const void* x, int64_t n);
bool HaveAvx2();
bool HaveVnni();  // AVX512-VNNI + VL: Q dots use dpbusd
// DotRow with the VNNI kernels disabled (the test that they agree bit for bit with AVX2).
float DotRowWithoutVnni(WeightType t, const uint8_t* w, const void* x, int64_t n);

}  // namespace loom::phi
