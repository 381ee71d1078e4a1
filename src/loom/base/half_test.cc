#include "loom/base/half.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "loom/base/random.h"

namespace loom {
namespace {

// The slow oracle: the representable value nearest to f (ties to the even bit pattern),
// found by comparing distances in double over the two candidates around f.
template <typename T, typename ToFloat>
uint16_t NearestBySearch(float f, ToFloat to_float) {
  // Candidates are adjacent bit patterns of the same sign; scan by bisection on magnitude.
  uint16_t sign = std::signbit(f) ? 0x8000 : 0;
  double target = std::fabs(static_cast<double>(f));
  uint16_t lo = 0, hi = sizeof(T) == 2 && std::is_same_v<T, Half> ? 0x7c00 : 0x7f80;  // +inf
  while (hi - lo > 1) {
    uint16_t mid = static_cast<uint16_t>((lo + hi) / 2);
    if (static_cast<double>(to_float(T{mid})) <= target) lo = mid;
    else hi = mid;
  }
  double dlo = target - static_cast<double>(to_float(T{lo}));
  double dhi = static_cast<double>(to_float(T{hi})) - target;
  uint16_t pick = dlo < dhi ? lo : dhi < dlo ? hi : ((lo & 1) ? hi : lo);
  return static_cast<uint16_t>(sign | pick);
}

TEST(HalfTest, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    Half h{static_cast<uint16_t>(b)};
    float f = HalfToFloat(h);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(f)))) << b;
      continue;
    }
    ASSERT_EQ(FloatToHalf(f).bits, h.bits) << "bits " << b;
  }
}

TEST(HalfTest, RoundingMatchesNearestEvenOracle) {
  Prng rng(3);
  for (int i = 0; i < 200000; ++i) {
    // Magnitudes spanning subnormal to overflow-adjacent halves.
    float f = static_cast<float>(std::ldexp(rng.UniformDouble() * 2 - 1, static_cast<int>(rng.Uniform(44)) - 28));
    if (std::fabs(f) >= 65520.0f) continue;  // rounds to inf: checked below
    ASSERT_EQ(FloatToHalf(f).bits, NearestBySearch<Half>(f, HalfToFloat)) << f;
  }
  EXPECT_EQ(FloatToHalf(65520.0f).bits, 0x7c00);  // exactly halfway to 65536 -> inf
  EXPECT_EQ(FloatToHalf(65519.0f).bits, 0x7bff);
  EXPECT_EQ(FloatToHalf(-std::numeric_limits<float>::infinity()).bits, 0xfc00);
}

TEST(BFloat16Test, RoundingMatchesNearestEvenOracle) {
  Prng rng(4);
  for (int i = 0; i < 200000; ++i) {
    float f = static_cast<float>(std::ldexp(rng.UniformDouble() * 2 - 1, static_cast<int>(rng.Uniform(200)) - 100));
    ASSERT_EQ(FloatToBFloat16(f).bits, NearestBySearch<BFloat16>(f, BFloat16ToFloat)) << f;
  }
  EXPECT_TRUE(std::isnan(BFloat16ToFloat(FloatToBFloat16(std::nanf("")))));
  for (uint32_t b = 0; b < 0x10000; ++b) {
    BFloat16 v{static_cast<uint16_t>(b)};
    float f = BFloat16ToFloat(v);
    if (!std::isnan(f)) {
      ASSERT_EQ(FloatToBFloat16(f).bits, v.bits);
    }
  }
}

}  // namespace
}  // namespace loom
