#include "loom/base/check.h"

#include <gtest/gtest.h>

namespace loom {
namespace {

TEST(CheckDeathTest, FailureNamesFileLineConditionAndMessage) {
  int n = 3;
  EXPECT_DEATH(LOOM_CHECK(n == 4) << "n=" << n, "check_test.cc:[0-9]+: check failed: n == 4 n=3");
}

TEST(CheckTest, PassingCheckDoesNotEvaluateMessage) {
  int evaluated = 0;
  auto side_effect = [&] { return ++evaluated; };
  LOOM_CHECK(true) << side_effect();
  EXPECT_EQ(evaluated, 0);
}

}  // namespace
}  // namespace loom
