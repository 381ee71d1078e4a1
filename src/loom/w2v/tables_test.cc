#include <gtest/gtest.h>

#include <cmath>

#include "loom/base/random.h"
#include "loom/base/strings.h"
#include "loom/w2v/tables.h"

namespace loom::w2v {
namespace {

Vocabulary RandomVocab(int n, uint64_t seed) {
  Prng rng(seed);
  std::vector<std::string> words = {"</s>"};
  std::vector<int64_t> counts = {static_cast<int64_t>(rng.Uniform(50))};
  for (int i = 1; i < n; ++i) {
    words.push_back(StrCat("w", i));
    counts.push_back(1 + static_cast<int64_t>(rng.Uniform(i % 7 == 0 ? 100000 : 300)));
  }
  return Vocabulary::FromCounts(words, counts, 1);
}

TEST(NoiseSampler, EqualsTheMaterialisedUnigramTable) {
  // Table sizes from 1 entry per bucket to ~150 (2^16 buckets), so buckets hold one word, a
  // few, or many rare ones (5000 words: several per bucket).
  for (int64_t size : {int64_t{1000}, int64_t{100000}, int64_t{1000003}, int64_t{10000019}}) {
    for (uint64_t seed : {1, 2, 3}) {
      Vocabulary v = RandomVocab(seed == 3 ? 5000 : 300, seed);
      NoiseSampler s(v, size);
      std::vector<int32_t> table = NoiseSampler::Materialize(v, size);
      for (int64_t i = 0; i < size; ++i)
        ASSERT_EQ(s.Entry(i), table[static_cast<size_t>(i)])
            << i << " of " << size << ", seed " << seed;
    }
  }
}

TEST(NoiseSampler, SharesFollowCountToThe075) {
  std::vector<std::string> w = {"</s>", "a", "b"};
  Vocabulary v = Vocabulary::FromCounts(w, {0, 16, 1}, 1);
  NoiseSampler s(v, 100000);
  int64_t a = 0;
  for (int64_t i = 0; i < 100000; ++i) a += s.Entry(i) == 1;
  double want = 8.0 / 9.0;  // 16^0.75 = 8
  EXPECT_NEAR(a / 100000.0, want, 1e-3);
}

TEST(SigmoidTable, MatchesWord2vecCIndexing) {
  SigmoidTable t;
  // Entry i = sigma((2i/1000 - 1) * 6); lookup index (int)((f + 6) * 83).
  for (int i : {0, 1, 499, 500, 998}) {
    double x = (2.0 * i / 1000 - 1) * 6;
    EXPECT_NEAR(t.data()[i], 1 / (1 + std::exp(-x)), 1e-6);
  }
  EXPECT_EQ(t(0.0f), t.data()[498]);  // 6 * 83 = 498: sigma(0) reads ~0.494, not 0.5
  EXPECT_NEAR(t(0.0f), 0.494, 1e-3);
  // NaN passes the callers' |f| < 6 tests; it must come back as NaN, not index the table.
  EXPECT_TRUE(std::isnan(t(std::nanf(""))));
  EXPECT_EQ(t(-6.0f), t.data()[0]);
  EXPECT_EQ(t(5.99f), t.data()[995]);
}

TEST(Huffman, CodesArePrefixFreeAndOptimal) {
  std::vector<std::string> w = {"</s>", "a", "b", "c", "d"};
  Vocabulary v = Vocabulary::FromCounts(w, {10, 8, 4, 2, 1}, 1);
  HuffmanCodes h = BuildHuffman(v);
  // Hand-computed two-queue merge: (d,c)=3, (3,b)=7, (a,7)=15, (</s>,15)=25.
  std::vector<size_t> lengths;
  for (const auto& c : h.code) lengths.push_back(c.size());
  EXPECT_EQ(lengths, (std::vector<size_t>{1, 2, 3, 4, 4}));
  double kraft = 0;
  for (size_t l : lengths) kraft += std::pow(2.0, -static_cast<double>(l));
  EXPECT_DOUBLE_EQ(kraft, 1.0);
  for (size_t i = 0; i < h.code.size(); ++i) {
    EXPECT_EQ(h.point[i][0], 3);  // the root is inner node V-2
    for (int32_t p : h.point[i]) EXPECT_TRUE(p >= 0 && p < 4);
    for (size_t j = 0; j < h.code.size(); ++j) {
      if (i == j || h.code[i].size() > h.code[j].size()) continue;
      EXPECT_FALSE(std::equal(h.code[i].begin(), h.code[i].end(), h.code[j].begin())) << i << " " << j;
    }
  }
}

TEST(Subsample, KeepProbabilityFormula) {
  std::vector<std::string> w = {"</s>", "the", "rare"};
  Vocabulary v = Vocabulary::FromCounts(w, {0, 10000, 5}, 1);
  auto k = SubsampleThresholds(v, 1e-3f);
  double f = 10000.0 / 10005.0, s = 1e-3;
  EXPECT_NEAR(k[1], std::sqrt(s / f) + s / f, 1e-5);
  EXPECT_GT(k[2], 1.0f);  // rare words are always kept
  EXPECT_TRUE(SubsampleThresholds(v, 0).empty());
}

}  // namespace
}  // namespace loom::w2v
