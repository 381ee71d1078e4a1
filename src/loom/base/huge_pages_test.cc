#include "loom/base/huge_pages.h"

#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

namespace loom {
namespace {

TEST(HugePages, RegionsWithoutAWholeHugePageAreLeftAlone) {
  std::vector<uint8_t> small(4096, 7);
  EXPECT_EQ(AdviseHugePages(small.data(), small.size()), 0u);
  EXPECT_EQ(AdviseHugePages(nullptr, 0), 0u);
}

// The collapse moves the pages' contents into new 2 MiB pages: every byte must survive, and
// only whole 2 MiB pages inside the region are advised.
TEST(HugePages, AdvisedRegionKeepsItsContents) {
  const size_t n = (size_t{9} << 20) / sizeof(uint64_t) + 123;
  std::vector<uint64_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i * 0x9E3779B97F4A7C15ull;
  const size_t advised = AdviseHugePages(v.data(), n * sizeof(uint64_t));
  EXPECT_EQ(advised % (size_t{2} << 20), 0u);
  EXPECT_LE(advised, n * sizeof(uint64_t));
#if defined(__linux__)
  EXPECT_GE(advised, size_t{6} << 20);  // 9 MiB holds at least 3 whole aligned 2 MiB pages
#endif
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(v[i], i * 0x9E3779B97F4A7C15ull) << i;
}

}  // namespace
}  // namespace loom
