// Test-only helpers shared by the Adasum tests (adasum_test, adasum_hierarchical_test): values
// encoded to and decoded from a dtype, Horovod's relative L2 error, per-rank Gaussian inputs.
// Not part of the library.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "loom/base/random.h"
#include "loom/comm/dtype.h"

namespace loom::adasum::test_util {

using comm::DataType;
using Vec = std::vector<double>;
// gen(rank, tensor) -> the values that rank contributes to that tensor.
using Gen = std::function<Vec(int rank, int tensor)>;

inline double Eps(DataType t) {
  switch (t) {
    case DataType::kF32:
      return FLT_EPSILON;
    case DataType::kF64:
      return DBL_EPSILON;
    case DataType::kF16:
      return std::ldexp(1.0, -10);
    case DataType::kBF16:
      return std::ldexp(1.0, -7);
    default:
      return 0;
  }
}

inline std::vector<std::byte> Encode(DataType t, const Vec& v) {
  std::vector<std::byte> b(v.size() * comm::DataTypeSize(t));
  for (size_t i = 0; i < v.size(); ++i) {
    switch (t) {
      case DataType::kF32: {
        float f = static_cast<float>(v[i]);
        std::memcpy(&b[4 * i], &f, 4);
        break;
      }
      case DataType::kF64:
        std::memcpy(&b[8 * i], &v[i], 8);
        break;
      case DataType::kF16: {
        uint16_t h = comm::FloatToHalf(static_cast<float>(v[i]));
        std::memcpy(&b[2 * i], &h, 2);
        break;
      }
      case DataType::kBF16: {
        uint16_t h = comm::FloatToBFloat16(static_cast<float>(v[i]));
        std::memcpy(&b[2 * i], &h, 2);
        break;
      }
      default:
        break;
    }
  }
  return b;
}

inline Vec Decode(DataType t, const std::vector<std::byte>& b) {
  size_t es = comm::DataTypeSize(t), n = b.size() / es;
  Vec v(n);
  for (size_t i = 0; i < n; ++i) {
    switch (t) {
      case DataType::kF32: {
        float f;
        std::memcpy(&f, &b[4 * i], 4);
        v[i] = f;
        break;
      }
      case DataType::kF64:
        std::memcpy(&v[i], &b[8 * i], 8);
        break;
      case DataType::kF16: {
        uint16_t h;
        std::memcpy(&h, &b[2 * i], 2);
        v[i] = comm::HalfToFloat(h);
        break;
      }
      case DataType::kBF16: {
        uint16_t h;
        std::memcpy(&h, &b[2 * i], 2);
        v[i] = comm::BFloat16ToFloat(h);
        break;
      }
      default:
        break;
    }
  }
  return v;
}

inline double RelError(const Vec& want, const Vec& got) {
  double num = 0, den = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    num += (want[i] - got[i]) * (want[i] - got[i]);
    den += want[i] * want[i];
  }
  return den == 0 ? std::sqrt(num) : std::sqrt(num / den);
}

inline Gen Gaussian(size_t n, uint64_t seed) {
  return [n, seed](int rank, int tensor) {
    Prng rng(seed * 1000003 + static_cast<uint64_t>(rank) * 131 + static_cast<uint64_t>(tensor));
    Vec v(n);
    for (double& x : v) x = rng.Normal();
    return v;
  };
}

}  // namespace loom::adasum::test_util
