#include "loom/base/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace loom {
namespace {

Status FailsWith(StatusCode code) { return Status(code, "inner"); }

Status Propagates(StatusCode code, int* reached) {
  LOOM_RETURN_IF_ERROR(FailsWith(code));
  ++*reached;
  return OkStatus();
}

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgumentError("odd: " + std::to_string(x));
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  LOOM_ASSIGN_OR_RETURN(int h, Half(x));
  LOOM_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, DefaultIsOkAndOkDropsMessage) {
  EXPECT_TRUE(Status().ok());
  Status s(StatusCode::kOk, "ignored");
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, ReturnIfErrorPropagatesCodeAndStopsEarly) {
  int reached = 0;
  Status s = Propagates(StatusCode::kDataLoss, &reached);
  EXPECT_EQ(s.code(), StatusCode::kDataLoss);
  EXPECT_EQ(s.message(), "inner");
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(Propagates(StatusCode::kOk, &reached).ok());
  EXPECT_EQ(reached, 1);
}

TEST(StatusTest, AssignOrReturnPropagatesFirstError) {
  EXPECT_EQ(*Quarter(12), 3);
  StatusOr<int> r = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "odd: 3");
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status s = NotFoundError("no such tensor").WithContext("model.safetensors");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NotFound: model.safetensors: no such tensor");
  EXPECT_TRUE(OkStatus().WithContext("x").ok());
}

TEST(StatusTest, EveryCanonicalCodeHasAName) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c)
    EXPECT_NE(StatusCodeName(static_cast<StatusCode>(c)), "Unknown") << c;
  EXPECT_EQ(InfeasibleError("x").code(), StatusCode::kInfeasible);
  EXPECT_EQ(UnavailableError("x").code(), StatusCode::kUnavailable);
  EXPECT_EQ(ResourceExhaustedError("x").code(), StatusCode::kResourceExhausted);
}

TEST(StatusTest, StatusOrHoldsMoveOnlyValues) {
  StatusOr<std::unique_ptr<int>> p = std::make_unique<int>(7);
  ASSERT_TRUE(p.ok());
  std::unique_ptr<int> owned = std::move(p).value();
  EXPECT_EQ(*owned, 7);
}

StatusOr<std::vector<std::string>> Words() {
  return std::vector<std::string>{"a long enough string to live on the heap", "b"};
}

TEST(StatusTest, RvalueValueOutlivesTheTemporaryInRangeFor) {
  // value() && returns by value, so the range-for below owns the vector; with a T&& accessor
  // the loop would read the destroyed temporary (ASan reports heap-use-after-free).
  std::string joined;
  for (const std::string& w : Words().value()) joined += w.substr(0, 1);
  for (const std::string& w : *Words()) joined += w.substr(0, 1);
  EXPECT_EQ(joined, "abab");
}

TEST(StatusDeathTest, ValueOnErrorAbortsWithMessage) {
  StatusOr<int> r = InternalError("boom");
  EXPECT_DEATH((void)r.value(), "boom");
}

}  // namespace
}  // namespace loom
