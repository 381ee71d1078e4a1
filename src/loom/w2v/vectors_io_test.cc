#include <gtest/gtest.h>

#include "loom/base/file_io.h"
#include "loom/testing/temp_dir.h"
#include "loom/w2v/vectors_io.h"

namespace loom::w2v {
namespace {

TEST(VectorsIo, TextIsWord2vecCsPrintfFormat) {
  std::vector<std::string> w = {"</s>", "ab"};
  std::vector<float> d = {0.5f, -0.25f, 1.0f / 3, 2};
  EXPECT_EQ(FormatVectors(w, d.data(), 2, false),
            "2 2\n</s> 0.500000 -0.250000 \nab 0.333333 2.000000 \n");
  std::string bin = FormatVectors(w, d.data(), 2, true);
  EXPECT_EQ(bin.size(), 4u + 5 + 8 + 1 + 3 + 8 + 1);
  EXPECT_EQ(bin.substr(0, 9), "2 2\n</s> ");
}

TEST(VectorsIo, BinaryRoundTripIsByteIdentical) {
  loom::testing::TempDir dir;
  std::vector<std::string> w = {"</s>", "x", "caf\xc3\xa9"};
  std::vector<float> d = {1e-30f, -0.0f, 3.5f, 1e30f, -7.25f, 0.1f};
  ASSERT_TRUE(WriteVectors(dir.File("a.bin"), w, d.data(), 2, true).ok());
  auto v = ReadVectors(dir.File("a.bin"));
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->words, w);
  ASSERT_TRUE(WriteVectors(dir.File("b.bin"), v->words, v->data.data(), v->dim, true).ok());
  EXPECT_EQ(*ReadFileToString(dir.File("a.bin")), *ReadFileToString(dir.File("b.bin")));
  // max_words keeps the first rows (compute-accuracy's threshold).
  auto two = ReadVectors(dir.File("a.bin"), VectorFormat::kAuto, 2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->words.size(), 2u);
}

TEST(VectorsIo, ReadsGensimText) {
  auto v = ParseVectors("2 3\nthe 0.1 -2.5e-3 3\nfoo 1 2 3\n", VectorFormat::kAuto, "g");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->words[1], "foo");
  EXPECT_FLOAT_EQ(v->data[1], -2.5e-3f);
  EXPECT_FLOAT_EQ(v->data[5], 3);
}

TEST(VectorsIo, TruncatedAndMalformedFilesAreDataLoss) {
  std::vector<std::string> w = {"</s>", "x"};
  std::vector<float> d = {1, 2, 3, 4};
  std::string bin = FormatVectors(w, d.data(), 2, true);
  for (size_t cut = 0; cut + 1 < bin.size(); ++cut) {
    auto v = ParseVectors(std::string_view(bin).substr(0, cut), VectorFormat::kBinary, "t.bin");
    EXPECT_EQ(v.status().code(), StatusCode::kDataLoss) << "cut at " << cut;
  }
  std::string txt = FormatVectors(w, d.data(), 2, false);
  EXPECT_EQ(ParseVectors(txt.substr(0, txt.size() - 8), VectorFormat::kText, "t").status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(ParseVectors("", VectorFormat::kAuto, "e").status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(ParseVectors("x y\n", VectorFormat::kAuto, "e").status().code(), StatusCode::kDataLoss);
  // A header promising far more than the file holds fails before allocating.
  EXPECT_EQ(ParseVectors("1000000000 1000\na 1\n", VectorFormat::kAuto, "h").status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(ParseVectors("1 2\na 1 zz\n", VectorFormat::kText, "n").status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace loom::w2v
