// Element types: half/bfloat16 conversions against known bit patterns, and the reduction kernel
// against scalar arithmetic.
#include "loom/comm/dtype.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

namespace loom::comm {
namespace {

TEST(Half, KnownBitPatterns) {
  EXPECT_EQ(FloatToHalf(1.0f), 0x3C00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xC000);
  EXPECT_EQ(FloatToHalf(65504.0f), 0x7BFF);       // max finite
  EXPECT_EQ(FloatToHalf(65520.0f), 0x7C00);       // rounds to inf
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -24)), 0x0001);  // smallest subnormal
  EXPECT_EQ(FloatToHalf(std::ldexp(1.0f, -25)), 0x0000);  // halfway rounds to even (0)
  EXPECT_EQ(FloatToHalf(std::ldexp(3.0f, -25)), 0x0002);  // 1.5 ulp rounds to even (2)
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie to even
  EXPECT_EQ(FloatToHalf(1.0f + std::ldexp(3.0f, -11)), 0x3C02);
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(HalfToFloat(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(HalfToFloat(0x03FF), std::ldexp(1023.0f, -24));
  EXPECT_EQ(HalfToFloat(0x7BFF), 65504.0f);
  EXPECT_TRUE(std::isinf(HalfToFloat(0xFC00)));
}

TEST(Half, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    float f = HalfToFloat(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    EXPECT_EQ(FloatToHalf(f), h) << std::hex << h;
  }
}

TEST(BFloat16, RoundsToNearestEven) {
  EXPECT_EQ(FloatToBFloat16(1.0f), 0x3F80);
  EXPECT_EQ(BFloat16ToFloat(0x3F80), 1.0f);
  float tie = 1.0f + std::ldexp(1.0f, -8);  // halfway between 1 and 1+2^-7
  EXPECT_EQ(FloatToBFloat16(tie), 0x3F80);
  EXPECT_EQ(FloatToBFloat16(1.0f + std::ldexp(3.0f, -8)), 0x3F82);
  for (uint32_t b = 0; b < 0x10000; b += 7) {
    float f = BFloat16ToFloat(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    EXPECT_EQ(FloatToBFloat16(f), b);
  }
}

TEST(Reduce, MatchesScalarArithmetic) {
  float a[4] = {1, -2, 3, 0.5f}, b[4] = {4, 5, -6, 0.25f};
  float out[4];
  Combine(DataType::kF32, ReduceOp::kSum, out, a, b, 4);
  EXPECT_EQ(out[3], 0.75f);
  Combine(DataType::kF32, ReduceOp::kProd, out, a, b, 4);
  EXPECT_EQ(out[1], -10.0f);
  Combine(DataType::kF32, ReduceOp::kMin, out, a, b, 4);
  EXPECT_EQ(out[2], -6.0f);
  Combine(DataType::kF32, ReduceOp::kMax, out, a, b, 4);
  EXPECT_EQ(out[0], 4.0f);
  int64_t x[2] = {7, -7};
  FinishAverage(DataType::kI64, ReduceOp::kAvg, x, 2, 2);
  EXPECT_EQ(x[0], 3);   // truncates toward zero
  EXPECT_EQ(x[1], -3);
  uint16_t h[1] = {FloatToHalf(1.5f)}, g[1] = {FloatToHalf(2.25f)};
  ReduceInto(DataType::kF16, ReduceOp::kSum, h, g, 1);
  EXPECT_EQ(HalfToFloat(h[0]), 3.75f);
}

// The f32/f64 loops run a 256-bit build where the CPU has AVX2 (dtype.cc): every op at lengths
// around the vector widths, in place (out == a) and out of place, with NaN, infinities and
// signed zeros, must give the scalar expression's bits.
template <typename T>
void ExpectScalarBits(DataType t) {
  const T specials[] = {T(0),
                        -T(0),
                        std::numeric_limits<T>::infinity(),
                        -std::numeric_limits<T>::infinity(),
                        std::numeric_limits<T>::quiet_NaN(),
                        T(1.5),
                        T(-2.25),
                        std::numeric_limits<T>::denorm_min()};
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kProd, ReduceOp::kMin, ReduceOp::kMax})
    for (size_t n : {0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100}) {
      std::vector<T> a(n), b(n), want(n);
      for (size_t i = 0; i < n; ++i) {
        a[i] = i % 3 == 0 ? specials[i % 8] : static_cast<T>(0.37 * static_cast<double>(i) - 5);
        b[i] = i % 5 == 0 ? specials[(i / 5) % 8]
                          : static_cast<T>(1.0 / (1.0 + static_cast<double>(i)));
        switch (op) {
          case ReduceOp::kSum:
            want[i] = a[i] + b[i];
            break;
          case ReduceOp::kProd:
            want[i] = a[i] * b[i];
            break;
          case ReduceOp::kMin:
            want[i] = std::min(a[i], b[i]);
            break;
          default:
            want[i] = std::max(a[i], b[i]);
            break;
        }
      }
      std::vector<T> out(n);
      Combine(t, op, out.data(), a.data(), b.data(), n);
      ReduceInto(t, op, a.data(), b.data(), n);  // in place
      for (size_t i = 0; i < n; ++i) {
        EXPECT_EQ(std::memcmp(&out[i], &want[i], sizeof(T)), 0)
            << DataTypeName(t) << " " << ReduceOpName(op) << " n=" << n << " i=" << i;
        EXPECT_EQ(std::memcmp(&a[i], &want[i], sizeof(T)), 0)
            << DataTypeName(t) << " " << ReduceOpName(op) << " in place n=" << n << " i=" << i;
      }
    }
}

TEST(Reduce, FloatLoopsGiveTheScalarBitsAtEveryLength) {
  ExpectScalarBits<float>(DataType::kF32);
  ExpectScalarBits<double>(DataType::kF64);
}

TEST(Reduce, AdasumIsNotElementwise) {
  Status s = CheckElementwise(DataType::kF32, ReduceOp::kAdasum);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("AdasumAllreduce"), std::string::npos);
  EXPECT_TRUE(CheckElementwise(DataType::kBF16, ReduceOp::kAvg).ok());
}

TEST(StoreElement, WritesEachTypeItsOwnWay) {
  float f = 0;
  double d = 0;
  uint16_t h = 0, b = 0;
  int32_t i = 0;
  int64_t l = 0;
  StoreElement(DataType::kF32, &f, 0.1);
  StoreElement(DataType::kF64, &d, 0.1);
  StoreElement(DataType::kF16, &h, 2.5);
  StoreElement(DataType::kBF16, &b, -3.0);
  StoreElement(DataType::kI32, &i, -2.7);  // truncates toward zero
  StoreElement(DataType::kI64, &l, 4e12);
  EXPECT_EQ(f, 0.1f);
  EXPECT_EQ(d, 0.1);
  EXPECT_EQ(h, FloatToHalf(2.5f));
  EXPECT_EQ(BFloat16ToFloat(b), -3.0f);
  EXPECT_EQ(i, -2);
  EXPECT_EQ(l, int64_t{4000000000000});
}

}  // namespace
}  // namespace loom::comm
