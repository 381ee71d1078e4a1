// cpu.h against the kernel's view of the CPU (/proc/cpuinfo flags) where Linux provides it.
#include "loom/base/cpu.h"

#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace loom {
namespace {

TEST(CpuTest, F16cAgreesWithProcCpuinfo) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  bool found_flags = false, listed = false;
  while (std::getline(in, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    found_flags = true;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) listed = listed || w == "f16c";
    break;
  }
  if (!found_flags) GTEST_SKIP() << "no x86 flags line in /proc/cpuinfo";
  EXPECT_EQ(CpuHasF16c(), listed);
}

}  // namespace
}  // namespace loom
