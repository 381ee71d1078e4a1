#include "loom/base/progress.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "loom/base/logging.h"

namespace loom {
namespace {

TEST(ProgressTest, RendersPercentageAndCounts) {
  Progress::ForceMode(2);  // silent: only Render() is checked
  Progress p("train", 200, "words");
  p.Add(50);
  std::string line = p.Render();
  EXPECT_NE(line.find("train"), std::string::npos) << line;
  EXPECT_NE(line.find(" 25%"), std::string::npos) << line;
  EXPECT_NE(line.find("50/200 words"), std::string::npos) << line;
  Progress::ForceMode(-1);
}

TEST(ProgressTest, ConcurrentAddsAreAllCounted) {
  Progress::ForceMode(2);
  Progress p("x", 0);
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) p.Add(1);
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(p.done(), 40000);
  Progress::ForceMode(-1);
}

TEST(ProgressTest, PlainModeLogsLinesNotCarriageReturns) {
  Progress::ForceMode(0);
  ::testing::internal::CaptureStderr();
  {
    Progress p("synth", 10, "steps", 0.0);
    p.Set(10);
  }
  std::string out = ::testing::internal::GetCapturedStderr();
  Progress::ForceMode(-1);
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_NE(out.find("progress synth"), std::string::npos) << out;
  EXPECT_NE(out.find("100%"), std::string::npos) << out;
}

}  // namespace
}  // namespace loom
