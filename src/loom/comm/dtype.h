// Element types and reductions of the collectives: DataType (f32 f64 f16 bf16 i32 i64),
// ReduceOp (sum prod min max avg adasum), IEEE half and bfloat16 conversions, and the
// elementwise kernel `ReduceInto` every algorithm and the interpreter use.
//
// Halves (f16, bf16) are widened to float for each operation and rounded back once, as NCCL
// does; they are never accumulated in half precision within one operation. `avg` reduces as a
// sum and divides by the rank count once at the end (`FinishAverage`); integers divide
// truncating toward zero. Adasum is not elementwise: it is accepted only by the adasum module.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loom/base/status.h"

namespace loom::comm {

enum class DataType { kF32, kF64, kF16, kBF16, kI32, kI64 };
enum class ReduceOp { kSum, kProd, kMin, kMax, kAvg, kAdasum };

size_t DataTypeSize(DataType t);
std::string_view DataTypeName(DataType t);  // "f32", ...
std::string_view ReduceOpName(ReduceOp op);  // "sum", ...
StatusOr<DataType> ParseDataType(std::string_view text);
StatusOr<ReduceOp> ParseReduceOp(std::string_view text);

// OK when `op` is an elementwise reduction defined on `t` (everything but adasum).
Status CheckElementwise(DataType t, ReduceOp op);

// dst[i] = dst[i] ⊕ src[i] for i < n (avg reduces as sum). Precondition: CheckElementwise.
void ReduceInto(DataType t, ReduceOp op, void* dst, const void* src, size_t n);
// While set on a thread, ReduceInto adds the bytes it reduces there (n · element size) to
// *meter: how the schedule trace (schedule_trace.h) charges the α-β-γ model's γ term.
// nullptr (the default) stops counting. Returns the previous meter.
size_t* SetReduceMeter(size_t* meter);
// out[i] = a[i] ⊕ b[i]; out may alias a or b.
void Combine(DataType t, ReduceOp op, void* out, const void* a, const void* b, size_t n);
// For avg: data[i] /= ranks. No-op for other ops.
// Writes `v` as one element of type t at dst (floats round to nearest, integers truncate
// toward zero): how tests and benchmarks fill typed buffers from one formula.
void StoreElement(DataType t, void* dst, double v);
void FinishAverage(DataType t, ReduceOp op, void* data, size_t n, int ranks);

// IEEE 754 binary16 and bfloat16, round to nearest even; NaN stays NaN.
uint16_t FloatToHalf(float f);
float HalfToFloat(uint16_t h);
uint16_t FloatToBFloat16(float f);
float BFloat16ToFloat(uint16_t b);

}  // namespace loom::comm
