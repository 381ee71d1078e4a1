#include "loom/base/aligned_buffer.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace loom {
namespace {

TEST(AlignedBufferTest, IsAlignedZeroedAndMovable) {
  AlignedBuffer<float> a(1000);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 64, 0u);
  for (float v : a) ASSERT_EQ(v, 0.0f);
  a[999] = 3.0f;
  AlignedBuffer<float> b = std::move(a);
  EXPECT_EQ(b.size(), 1000u);
  EXPECT_EQ(b[999], 3.0f);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_TRUE(AlignedBuffer<double>(0).empty());
}

TEST(ArenaTest, AllocationsAreAlignedAndDisjoint) {
  Arena arena(4096);
  std::vector<std::pair<uint8_t*, size_t>> blocks;
  for (size_t i = 1; i < 200; i += 7) {
    auto* p = static_cast<uint8_t*>(arena.Allocate(i * 13, 32));
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 32, 0u);
    std::memset(p, static_cast<int>(i), i * 13);
    blocks.emplace_back(p, i);
  }
  for (auto [p, i] : blocks)
    for (size_t k = 0; k < i * 13; ++k) ASSERT_EQ(p[k], static_cast<uint8_t>(i));
  arena.Reset();
  EXPECT_EQ(arena.bytes_allocated(), 0u);
  auto big = arena.AllocateArray<double>(100000);  // larger than a block
  big[99999] = 1.0;
  EXPECT_EQ(big.size(), 100000u);
}

}  // namespace
}  // namespace loom
