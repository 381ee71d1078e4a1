#include "loom/base/csprng.h"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <vector>

namespace loom {
namespace {

TEST(CsprngTest, InstancesNeverRepeatEachOther) {
  // Two fresh instances (and two draws of one) must differ: there is no seed to share.
  std::set<std::array<uint8_t, 32>> seen;
  for (int i = 0; i < 64; ++i) {
    SecureRandom r;
    std::array<uint8_t, 32> a{}, b{};
    r.Fill(a);
    r.Fill(b);
    EXPECT_TRUE(seen.insert(a).second) << "instance " << i << " repeated an earlier output";
    EXPECT_TRUE(seen.insert(b).second);
  }
}

TEST(CsprngTest, BitsAreRoughlyBalanced) {
  SecureRandom r;
  std::vector<uint8_t> buf(1 << 16);
  r.Fill(buf);
  int64_t ones = 0;
  for (uint8_t b : buf) ones += __builtin_popcount(b);
  double frac = static_cast<double>(ones) / (8.0 * static_cast<double>(buf.size()));
  // 524288 bits: standard deviation ~0.0007; 0.49..0.51 is > 14 sigma.
  EXPECT_NEAR(frac, 0.5, 0.01);
}

TEST(CsprngTest, OsRandomBytesFillsLargeRequests) {
  std::vector<uint8_t> buf(1 << 20, 0);
  ASSERT_TRUE(OsRandomBytes(buf).ok());
  int zeros = 0;
  for (uint8_t b : buf) zeros += b == 0;
  EXPECT_LT(zeros, 6000);  // expected ~4096
}

}  // namespace
}  // namespace loom
