#include "loom/base/strings.h"

#include <gtest/gtest.h>

namespace loom {
namespace {

TEST(StringsTest, ParseByteSizeAcceptsDecimalAndBinaryUnits) {
  EXPECT_EQ(*ParseByteSize("4", "--size"), 4u);
  EXPECT_EQ(*ParseByteSize("4B", "--size"), 4u);
  EXPECT_EQ(*ParseByteSize("1KB", "--size"), 1000u);
  EXPECT_EQ(*ParseByteSize("1kib", "--size"), 1024u);
  EXPECT_EQ(*ParseByteSize("256MB", "--size"), 256000000u);
  EXPECT_EQ(*ParseByteSize("1.5GiB", "--size"), 1610612736u);
}

TEST(StringsTest, ParseByteSizeRejectsGarbageNamingTheFlag) {
  for (const char* bad : {"", "MB", "1XB", "-1", "1.3B", "1e400"}) {
    auto r = ParseByteSize(bad, "--size");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("--size"), std::string::npos);
  }
}

TEST(StringsTest, StrictNumberParsing) {
  EXPECT_EQ(*ParseInt("-12", "n"), -12);
  EXPECT_FALSE(ParseInt("12x", "n").ok());
  EXPECT_FALSE(ParseInt("", "n").ok());
  EXPECT_DOUBLE_EQ(*ParseDouble("2.5e-3", "x"), 2.5e-3);
  EXPECT_FALSE(ParseDouble("nan", "x").ok());
}

TEST(StringsTest, SplitKeepsOrSkipsEmptyPieces) {
  EXPECT_EQ(StrSplit("60,40,,60", ','), (std::vector<std::string>{"60", "40", "", "60"}));
  EXPECT_EQ(StrSplit("60,40,,60", ',', true), (std::vector<std::string>{"60", "40", "60"}));
  EXPECT_EQ(StrCat("a", 1, '-', 2.5), "a1-2.5");
  EXPECT_EQ(FormatBytes(256u << 20), "256MiB");
  EXPECT_EQ(FormatBytes(1536), "1.5KiB");
}

}  // namespace
}  // namespace loom
