#include "loom/base/logging.h"

#include <gtest/gtest.h>

namespace loom {
namespace {

TEST(LoggingTest, ParsesLevelsAndRejectsUnknown) {
  EXPECT_EQ(*ParseLogLevel("debug"), LogLevel::kDebug);
  EXPECT_EQ(*ParseLogLevel("warn"), LogLevel::kWarning);
  auto bad = ParseLogLevel("loud");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("loud"), std::string::npos);
}

TEST(LoggingTest, MessagesBelowThresholdAreNotEvaluated) {
  LogLevel saved = GetLogLevel();
  SetLogLevel(LogLevel::kError);
  int evaluated = 0;
  LOOM_LOG(kInfo) << ++evaluated;
  EXPECT_EQ(evaluated, 0);
  ::testing::internal::CaptureStderr();
  LOOM_LOG(kError) << "visible " << ++evaluated;
  std::string out = ::testing::internal::GetCapturedStderr();
  SetLogLevel(saved);
  EXPECT_EQ(evaluated, 1);
  EXPECT_NE(out.find("[E "), std::string::npos) << out;
  EXPECT_NE(out.find("logging_test.cc:"), std::string::npos) << out;
  EXPECT_NE(out.find("visible 1"), std::string::npos) << out;
}

}  // namespace
}  // namespace loom
