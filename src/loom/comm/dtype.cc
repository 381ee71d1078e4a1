// Reduction kernels and half conversions (dtype.h).
#include "loom/comm/dtype.h"

#include <algorithm>
#include <cstring>

#include "loom/base/half.h"
#include "loom/base/strings.h"

namespace loom::comm {

size_t DataTypeSize(DataType t) {
  switch (t) {
    case DataType::kF32: case DataType::kI32: return 4;
    case DataType::kF64: case DataType::kI64: return 8;
    case DataType::kF16: case DataType::kBF16: return 2;
  }
  return 0;
}

std::string_view DataTypeName(DataType t) {
  switch (t) {
    case DataType::kF32: return "f32";
    case DataType::kF64: return "f64";
    case DataType::kF16: return "f16";
    case DataType::kBF16: return "bf16";
    case DataType::kI32: return "i32";
    case DataType::kI64: return "i64";
  }
  return "?";
}

std::string_view ReduceOpName(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return "sum";
    case ReduceOp::kProd: return "prod";
    case ReduceOp::kMin: return "min";
    case ReduceOp::kMax: return "max";
    case ReduceOp::kAvg: return "avg";
    case ReduceOp::kAdasum: return "adasum";
  }
  return "?";
}

StatusOr<DataType> ParseDataType(std::string_view text) {
  for (DataType t : {DataType::kF32, DataType::kF64, DataType::kF16, DataType::kBF16,
                     DataType::kI32, DataType::kI64})
    if (DataTypeName(t) == text) return t;
  return InvalidArgumentError(StrCat("unknown dtype '", text, "' (f32 f64 f16 bf16 i32 i64)"));
}

StatusOr<ReduceOp> ParseReduceOp(std::string_view text) {
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kProd, ReduceOp::kMin, ReduceOp::kMax,
                      ReduceOp::kAvg, ReduceOp::kAdasum})
    if (ReduceOpName(op) == text) return op;
  return InvalidArgumentError(StrCat("unknown reduction '", text, "' (sum prod min max avg adasum)"));
}

Status CheckElementwise(DataType t, ReduceOp op) {
  if (DataTypeSize(t) == 0) return InvalidArgumentError("invalid dtype");
  if (op == ReduceOp::kAdasum)
    return InvalidArgumentError(StrCat("adasum is not an elementwise reduction; use "
                                       "loom::adasum::AdasumAllreduce (dtype ", DataTypeName(t), ")"));
  if (static_cast<int>(op) < 0 || static_cast<int>(op) > static_cast<int>(ReduceOp::kAvg))
    return InvalidArgumentError("invalid reduction");
  return OkStatus();
}

// The conversions live in base (loom/base/half.h, tested exhaustively); comm keeps its
// uint16_t-typed names because its buffers are raw bytes.
uint16_t FloatToHalf(float f) { return loom::FloatToHalf(f).bits; }
float HalfToFloat(uint16_t h) { return loom::HalfToFloat(Half{h}); }
uint16_t FloatToBFloat16(float f) { return loom::FloatToBFloat16(f).bits; }
float BFloat16ToFloat(uint16_t b) { return loom::BFloat16ToFloat(BFloat16{b}); }

namespace {

template <typename T>
T Apply(ReduceOp op, T a, T b) {
  switch (op) {
    case ReduceOp::kSum:
    case ReduceOp::kAvg: return static_cast<T>(a + b);
    case ReduceOp::kProd: return static_cast<T>(a * b);
    case ReduceOp::kMin: return std::min(a, b);
    case ReduceOp::kMax: return std::max(a, b);
    default: return a;
  }
}

template <typename T>
inline __attribute__((always_inline)) void CombineT(ReduceOp op, T* out, const T* a, const T* b,
                                                    size_t n) {
  switch (op) {  // hoisted so each loop vectorises
    case ReduceOp::kSum:
    case ReduceOp::kAvg:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<T>(a[i] + b[i]);
      break;
    case ReduceOp::kProd:
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<T>(a[i] * b[i]);
      break;
    case ReduceOp::kMin:
      for (size_t i = 0; i < n; ++i) out[i] = std::min(a[i], b[i]);
      break;
    case ReduceOp::kMax:
      for (size_t i = 0; i < n; ++i) out[i] = std::max(a[i], b[i]);
      break;
    default:
      break;
  }
}

// The f32/f64 loops again for AVX2 (256-bit vectors; the default build targets baseline
// x86-64, i.e. SSE2), picked once per process. Same operations per element, so the same bits.
// adasum_kernels_bench's BM_SumReduceF32 measured the SSE2 loop at 13-19 us for 128K floats
// in L2 depending on where the linker placed it; see docs/benchmarks.md for the AVX2 numbers.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define LOOM_COMBINE_AVX2 1
__attribute__((target("avx2"))) void CombineF32Avx2(ReduceOp op, float* out, const float* a,
                                                    const float* b, size_t n) {
  CombineT(op, out, a, b, n);
}
__attribute__((target("avx2"))) void CombineF64Avx2(ReduceOp op, double* out, const double* a,
                                                    const double* b, size_t n) {
  CombineT(op, out, a, b, n);
}
bool HasAvx2() {
  static const bool has = __builtin_cpu_supports("avx2");
  return has;
}
#endif

template <float (*ToF)(uint16_t), uint16_t (*FromF)(float)>
void CombineHalf(ReduceOp op, uint16_t* out, const uint16_t* a, const uint16_t* b, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = FromF(Apply<float>(op, ToF(a[i]), ToF(b[i])));
}

}  // namespace

void Combine(DataType t, ReduceOp op, void* out, const void* a, const void* b, size_t n) {
  switch (t) {
    case DataType::kF32:
#ifdef LOOM_COMBINE_AVX2
      if (HasAvx2()) {
        CombineF32Avx2(op, static_cast<float*>(out), static_cast<const float*>(a),
                       static_cast<const float*>(b), n);
        break;
      }
#endif
      CombineT(op, static_cast<float*>(out), static_cast<const float*>(a),
               static_cast<const float*>(b), n);
      break;
    case DataType::kF64:
#ifdef LOOM_COMBINE_AVX2
      if (HasAvx2()) {
        CombineF64Avx2(op, static_cast<double*>(out), static_cast<const double*>(a),
                       static_cast<const double*>(b), n);
        break;
      }
#endif
      CombineT(op, static_cast<double*>(out), static_cast<const double*>(a),
               static_cast<const double*>(b), n);
      break;
    case DataType::kI32:
      CombineT(op, static_cast<int32_t*>(out), static_cast<const int32_t*>(a),
               static_cast<const int32_t*>(b), n);
      break;
    case DataType::kI64:
      CombineT(op, static_cast<int64_t*>(out), static_cast<const int64_t*>(a),
               static_cast<const int64_t*>(b), n);
      break;
    case DataType::kF16:
      CombineHalf<HalfToFloat, FloatToHalf>(op, static_cast<uint16_t*>(out),
                                            static_cast<const uint16_t*>(a),
                                            static_cast<const uint16_t*>(b), n);
      break;
    case DataType::kBF16:
      CombineHalf<BFloat16ToFloat, FloatToBFloat16>(op, static_cast<uint16_t*>(out),
                                                    static_cast<const uint16_t*>(a),
                                                    static_cast<const uint16_t*>(b), n);
      break;
  }
}

namespace {
thread_local size_t* reduce_meter = nullptr;
}  // namespace

size_t* SetReduceMeter(size_t* meter) {
  size_t* previous = reduce_meter;
  reduce_meter = meter;
  return previous;
}

void ReduceInto(DataType t, ReduceOp op, void* dst, const void* src, size_t n) {
  if (reduce_meter != nullptr) *reduce_meter += n * DataTypeSize(t);
  Combine(t, op, dst, dst, src, n);
}

void StoreElement(DataType t, void* dst, double v) {
  switch (t) {
    case DataType::kF32: {
      const float f = static_cast<float>(v);
      std::memcpy(dst, &f, 4);
      break;
    }
    case DataType::kF64:
      std::memcpy(dst, &v, 8);
      break;
    case DataType::kF16: {
      const uint16_t h = FloatToHalf(static_cast<float>(v));
      std::memcpy(dst, &h, 2);
      break;
    }
    case DataType::kBF16: {
      const uint16_t h = FloatToBFloat16(static_cast<float>(v));
      std::memcpy(dst, &h, 2);
      break;
    }
    case DataType::kI32: {
      const auto k = static_cast<int32_t>(v);
      std::memcpy(dst, &k, 4);
      break;
    }
    case DataType::kI64: {
      const auto k = static_cast<int64_t>(v);
      std::memcpy(dst, &k, 8);
      break;
    }
  }
}

void FinishAverage(DataType t, ReduceOp op, void* data, size_t n, int ranks) {
  if (op != ReduceOp::kAvg || ranks <= 1) return;
  switch (t) {
    case DataType::kF32: {
      auto* d = static_cast<float*>(data);
      for (size_t i = 0; i < n; ++i) d[i] /= static_cast<float>(ranks);
      break;
    }
    case DataType::kF64: {
      auto* d = static_cast<double*>(data);
      for (size_t i = 0; i < n; ++i) d[i] /= ranks;
      break;
    }
    case DataType::kI32: {
      auto* d = static_cast<int32_t*>(data);
      for (size_t i = 0; i < n; ++i) d[i] /= ranks;
      break;
    }
    case DataType::kI64: {
      auto* d = static_cast<int64_t*>(data);
      for (size_t i = 0; i < n; ++i) d[i] /= ranks;
      break;
    }
    case DataType::kF16: {
      auto* d = static_cast<uint16_t*>(data);
      for (size_t i = 0; i < n; ++i)
        d[i] = FloatToHalf(HalfToFloat(d[i]) / static_cast<float>(ranks));
      break;
    }
    case DataType::kBF16: {
      auto* d = static_cast<uint16_t*>(data);
      for (size_t i = 0; i < n; ++i)
        d[i] = FloatToBFloat16(BFloat16ToFloat(d[i]) / static_cast<float>(ranks));
      break;
    }
  }
}

}  // namespace loom::comm
