#include <gtest/gtest.h>

#include <cmath>

#include "loom/w2v/eval.h"

namespace loom::w2v {
namespace {

// Hand-built unit vectors: king/queen share an axis, man/woman carry the gender axes.
WordVectors Toy() {
  const double r = 1 / std::sqrt(2.0), t = 1 / std::sqrt(3.0);
  WordVectors v;
  v.dim = 3;
  v.words = {"</s>", "man", "woman", "king", "queen", "apple", "Man"};
  std::vector<double> d = {-t, -t, -t, 1, 0, 0, 0, 1, 0, r, 0, r, 0, r, r, 0, 0, 1, 0.9, 0.1, 0};
  for (double x : d) v.data.push_back(static_cast<float>(x));
  return v;
}

TEST(Analogy, ComputeAccuracySemanticsOnHandComputedQuestions) {
  // family: Q1 woman-man+king -> queen 1.207 > apple 0.707 (correct); Q2 has an OOV word
  // (in total, not seen); Q3 queen-king+man -> woman 0.707 (correct); Q4 expects apple but
  // king scores 1.207 (wrong). Upper-casing makes "Man" (row 6) a duplicate that loses to
  // "man" (row 1). Sections 1-5 are semantic; gram1 is the 6th, syntactic: king-man+woman ->
  // queen (correct), king-queen+woman -> man 0.707 > Man 0.665 (wrong).
  std::string q =
      ": family\nman woman king queen\nman woman apple pear\nking queen MAN woman\n"
      "woman man queen apple\n: s2\n: s3\nman king woman queen\n: s4\n: s5\n"
      ": gram1-adjective-to-adverb\nman king woman queen\nqueen woman king apple\n";
  AnalogyReport r = EvaluateAnalogies(Toy(), q);
  EXPECT_EQ(r.total, 7);
  EXPECT_EQ(r.seen, 6);
  EXPECT_EQ(r.semantic_seen, 4);
  EXPECT_EQ(r.semantic_correct, 3);
  EXPECT_EQ(r.syntactic_seen, 2);
  EXPECT_EQ(r.syntactic_correct, 1);
  // compute-accuracy's output on the same vectors and questions, line for line (produced by
  // its binary at dev time; note the empty sections report 0 / 1).
  EXPECT_EQ(r.text,
            "family:\n"
            "ACCURACY TOP1: 66.67 %  (2 / 3)\n"
            "Total accuracy: 66.67 %   Semantic accuracy: 66.67 %   Syntactic accuracy: -nan % \n"
            "s2:\n"
            "ACCURACY TOP1: 0.00 %  (0 / 1)\n"
            "Total accuracy: 66.67 %   Semantic accuracy: 66.67 %   Syntactic accuracy: -nan % \n"
            "s3:\n"
            "ACCURACY TOP1: 100.00 %  (1 / 1)\n"
            "Total accuracy: 75.00 %   Semantic accuracy: 75.00 %   Syntactic accuracy: -nan % \n"
            "s4:\n"
            "ACCURACY TOP1: 0.00 %  (0 / 1)\n"
            "Total accuracy: 75.00 %   Semantic accuracy: 75.00 %   Syntactic accuracy: -nan % \n"
            "s5:\n"
            "ACCURACY TOP1: 0.00 %  (0 / 1)\n"
            "Total accuracy: 75.00 %   Semantic accuracy: 75.00 %   Syntactic accuracy: -nan % \n"
            "gram1-adjective-to-adverb:\n"
            "ACCURACY TOP1: 50.00 %  (1 / 2)\n"
            "Total accuracy: 66.67 %   Semantic accuracy: 75.00 %   Syntactic accuracy: 50.00 % \n"
            "Questions seen / total: 6 7   85.71 % \n");
  // Threshold 2 (only </s> and man are read): nothing is seen, everything is counted.
  WordVectors two = Toy();
  two.words.resize(2);
  two.data.resize(6);
  AnalogyReport t = EvaluateAnalogies(two, q);
  EXPECT_EQ(t.seen, 0);
  EXPECT_EQ(t.total, 7);
  EXPECT_NE(t.text.find("Questions seen / total: 0 7   0.00 % \n"), std::string::npos);
  EXPECT_NE(t.text.find("Total accuracy: -nan %   Semantic accuracy: -nan %"), std::string::npos);
}

TEST(Analogy, AllNegativeScoresAreWrongAndTiesKeepTheEarlierWord) {
  WordVectors v;
  v.dim = 2;
  v.words = {"a", "b", "c", "d", "e"};
  // b - a + c = (-1, -1) direction; every other word scores <= 0 -> no answer -> wrong.
  v.data = {1, 0, 0, -1, 0, 0.0001f, 1, 0.0001f, 1, 0.0001f};
  v.data[4] = -1;
  v.data[5] = 0;
  AnalogyReport r = EvaluateAnalogies(v, ": s\na b c d\n");
  EXPECT_EQ(r.seen, 1);
  EXPECT_EQ(r.correct, 0);
  // Ties: d and e are identical; the earlier (d) wins.
  WordVectors t;
  t.dim = 2;
  t.words = {"a", "b", "c", "d", "e"};
  t.data = {1, 0, 0, 1, 1, 0, 0, 1, 0, 1};
  EXPECT_EQ(EvaluateAnalogies(t, ": s\na b c d\n").correct, 1);
  EXPECT_EQ(EvaluateAnalogies(t, ": s\na b c e\n").correct, 0);
}

TEST(WordSim, SpearmanHandComputed) {
  EXPECT_NEAR(Spearman({1, 2, 3, 4}, {10, 30, 20, 40}), 0.8, 1e-12);
  EXPECT_NEAR(Spearman({1, 1, 2}, {1, 2, 3}), 1.5 / std::sqrt(3.0), 1e-12);
  auto r = EvaluateWordSim(Toy(), "# comment\nking\tqueen\t8\nman\twoman\t7\nking\tapple\t1\nking\tzebra\t3\n", "ws");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->pairs, 3);
  EXPECT_EQ(r->oov, 1);
  EXPECT_DOUBLE_EQ(r->oov_ratio, 25.0);
  // cosines: king-queen 0.5, man-woman 0, king-apple 0.707 -> ranks (2,1,3) vs (3,2,1).
  EXPECT_NEAR(r->spearman, -0.5, 1e-12);
  EXPECT_EQ(EvaluateWordSim(Toy(), "a\tb\n", "ws").status().code(), StatusCode::kInvalidArgument);
}

TEST(Queries, SimilarAndAnalogy) {
  auto s = Similar(Toy(), "man", 2);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)[0].first, "Man");
  EXPECT_EQ((*s)[1].first, "king");
  EXPECT_NEAR((*s)[1].second, 1 / std::sqrt(2.0), 1e-6);
  auto a = Analogy(Toy(), "man", "woman", "king", 1);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)[0].first, "queen");
  EXPECT_EQ(Similar(Toy(), "zebra", 3).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace loom::w2v
