#include "loom/base/json.h"

#include <gtest/gtest.h>

#include "loom/testing/temp_dir.h"

namespace loom {
namespace {

constexpr char kTopo[] = R"({
  "name": "ndv2",
  "links": [ {"alpha": 0.7, "beta": 46}, {"alpha": "fast", "beta": 12} ],
  "gpus": 8
})";

TEST(JsonTest, ReadsTypedFields) {
  auto doc = ParseJson(kTopo, "topo.json");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(*doc->GetString("name"), "ndv2");
  EXPECT_EQ(*doc->GetInt("gpus"), 8);
  auto links = doc->Get("links")->Elements();
  ASSERT_TRUE(links.ok());
  ASSERT_EQ(links->size(), 2u);
  EXPECT_DOUBLE_EQ(*(*links)[0].GetDouble("alpha"), 0.7);
  EXPECT_EQ(*doc->GetInt("absent", 42), 42);
}

TEST(JsonTest, WrongTypeErrorNamesSourceFieldAndTypes) {
  auto doc = ParseJson(kTopo, "topo.json");
  ASSERT_TRUE(doc.ok());
  auto link = doc->Get("links")->At(1);
  ASSERT_TRUE(link.ok());
  auto alpha = link->GetDouble("alpha");
  ASSERT_FALSE(alpha.ok());
  EXPECT_EQ(alpha.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(alpha.status().message(),
            "topo.json: field 'links[1].alpha': expected a number, got string");
}

TEST(JsonTest, MissingFieldIsNamedWithItsPath) {
  auto doc = ParseJson(kTopo, "topo.json");
  ASSERT_TRUE(doc.ok());
  auto gamma = doc->Get("links")->At(0)->GetDouble("gamma");
  ASSERT_FALSE(gamma.ok());
  EXPECT_EQ(gamma.status().message(), "topo.json: missing field 'links[0].gamma'");
  auto out = doc->Get("links")->At(5);
  EXPECT_NE(out.status().message().find("index 5 out of range (size 2)"), std::string::npos);
}

TEST(JsonTest, IntegersRejectFractions) {
  auto doc = ParseJson(R"({"n": 2.5, "m": 3.0})", "x");
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(doc->GetInt("n").ok());
  EXPECT_EQ(*doc->GetInt("m"), 3);
}

TEST(JsonTest, SyntaxErrorNamesLineAndColumn) {
  auto doc = ParseJson("{\n  \"a\": 1,\n  \"b\": ]\n}", "bad.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.status().message().rfind("bad.json:3:", 0), 0u) << doc.status();
}

TEST(JsonTest, DeepNestingIsRejectedNotRecursedInto) {
  std::string deep(100000, '[');
  auto doc = ParseJson(deep, "deep.json");
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("nested deeper"), std::string::npos);
}

TEST(JsonTest, FileRoundTrip) {
  loom::testing::TempDir dir;
  Json j = {{"a", 1}, {"b", {1, 2, 3}}};
  ASSERT_TRUE(WriteJsonFile(dir.File("x.json"), j).ok());
  auto back = ReadJsonFile(dir.File("x.json"));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->raw(), j);
  EXPECT_EQ(ReadJsonFile(dir.File("none.json")).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace loom
