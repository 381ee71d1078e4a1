// -classes: word2vec.c's K-means against its own output on the golden run, and a hand-worked
// two-cluster case.
#include "loom/w2v/word_classes.h"

#include <gtest/gtest.h>

#include "loom/base/file_io.h"
#include "loom/base/strings.h"
#include "loom/testing/temp_dir.h"
#include "loom/w2v/vectors_io.h"

namespace loom::w2v {
namespace {

std::string TestData(const std::string& name) { return std::string(LOOM_W2V_TESTDATA) + "/" + name; }

// golden_classes_sg_ns.txt is word2vec.c's -classes 5 output for the training run whose
// vectors are golden_sg_ns.bin (scripts/w2v-make-goldens.sh): same vectors in, same classes out.
TEST(WordClasses, MatchWord2vecOnTheGoldenRun) {
  auto vectors = ReadVectors(TestData("golden_sg_ns.bin"), VectorFormat::kBinary);
  ASSERT_TRUE(vectors.ok()) << vectors.status();
  auto cls = WordClasses(vectors->data, static_cast<int64_t>(vectors->words.size()), vectors->dim, 5);
  ASSERT_TRUE(cls.ok()) << cls.status();
  loom::testing::TempDir dir;
  ASSERT_TRUE(WriteWordClasses(dir.File("c.txt"), vectors->words, *cls).ok());
  auto got = ReadFileToString(dir.File("c.txt"));
  auto want = ReadFileToString(TestData("golden_classes_sg_ns.txt"));
  ASSERT_TRUE(got.ok() && want.ok());
  EXPECT_EQ(*got, *want);
  // Not a degenerate clustering: several classes are used.
  std::vector<int> used(5, 0);
  for (int32_t c : *cls) used[static_cast<size_t>(c)] = 1;
  EXPECT_GE(used[0] + used[1] + used[2] + used[3] + used[4], 3);
}

// Words A1=(1,0) A2=(1,.3) B1=(0,1) B2=(.1,1) start in classes 0 1 0 1 (index mod K). Centroid
// 0 = (A1+B1)/3 points at 45 degrees, centroid 1 = (A2+B2)/3 at 49.8 degrees, so after one
// iteration the A words (0 and 16.7 degrees) are nearer centroid 0 and the B words (90, 84.3)
// nearer centroid 1; the next iterations keep that.
TEST(WordClasses, HandWorkedTwoClusters) {
  const std::vector<float> v = {1, 0, 1, 0.3f, 0, 1, 0.1f, 1};
  EXPECT_EQ(*WordClasses(v, 4, 2, 2, 0), (std::vector<int32_t>{0, 1, 0, 1}));
  EXPECT_EQ(*WordClasses(v, 4, 2, 2, 1), (std::vector<int32_t>{0, 0, 1, 1}));
  EXPECT_EQ(*WordClasses(v, 4, 2, 2), (std::vector<int32_t>{0, 0, 1, 1}));
  // K = 1: everything in class 0. K > words: the empty classes (NaN centroids) never win.
  EXPECT_EQ(*WordClasses(v, 4, 2, 1), (std::vector<int32_t>{0, 0, 0, 0}));
  auto many = WordClasses(v, 4, 2, 7);
  ASSERT_TRUE(many.ok());
  for (int32_t c : *many) EXPECT_LT(c, 4);
}

TEST(WordClasses, BadArgumentsAreErrors) {
  const std::vector<float> v = {1, 0, 0, 1};
  EXPECT_EQ(WordClasses(v, 2, 2, 0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(WordClasses(v, 3, 2, 2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(WriteWordClasses("/nonexistent-dir/x", {"a"}, {0}).ok());
  EXPECT_EQ(WriteWordClasses("x", {"a", "b"}, {0}).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace loom::w2v
