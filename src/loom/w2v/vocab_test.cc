#include <gtest/gtest.h>

#include <string>

#include "loom/base/file_io.h"
#include "loom/testing/temp_dir.h"
#include "loom/w2v/corpus.h"
#include "loom/w2v/vocab.h"
#include "loom/w2v/word_reader.h"

namespace loom::w2v {
namespace {

std::vector<std::string> Tokens(const std::string& path) {
  auto r = WordReader::Open(path);
  EXPECT_TRUE(r.ok());
  std::vector<std::string> out;
  std::string_view t;
  while (true) {
    auto more = (*r)->Next(&t);
    EXPECT_TRUE(more.ok()) << more.status();
    if (!more.ok() || !*more) break;
    out.emplace_back(t);
  }
  return out;
}

TEST(WordReader, SplitsLikeWord2vecC) {
  loom::testing::TempDir dir;
  std::string p = dir.File("c.txt");
  ASSERT_TRUE(WriteFileAtomically(p, "a b\tc\r\n\n  d\nlast").ok());
  // CR dropped, each newline a </s>, the token cut by end-of-file dropped.
  std::vector<std::string> want = {"a", "b", "c", "</s>", "</s>", "d", "</s>"};
  EXPECT_EQ(Tokens(p), want);
}

TEST(WordReader, LongTokensKeepTheirFirst98Bytes) {
  loom::testing::TempDir dir;
  std::string p = dir.File("c.txt");
  std::string longword(200, 'x');
  longword[97] = 'y';
  longword[98] = 'z';
  ASSERT_TRUE(WriteFileAtomically(p, longword + " b\n").ok());
  auto t = Tokens(p);
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[0], longword.substr(0, 98));
}

TEST(WordReader, EnormousLineIsStreamed) {
  loom::testing::TempDir dir;
  std::string p = dir.File("c.txt");
  std::string text;
  for (int i = 0; i < 600000; ++i) text += (i % 3 == 0 ? "alpha " : "be ");
  text += "\n";  // one 2.4 MB line, larger than the reader's buffer
  ASSERT_TRUE(WriteFileAtomically(p, text).ok());
  auto v = LearnVocab(p, {.min_count = 1});
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->count(v->Find("alpha")), 200000);
  EXPECT_EQ(v->count(v->Find("be")), 400000);
  EXPECT_EQ(v->train_words(), 600001);
}

TEST(Vocab, SortsByCountWithFirstOccurrenceTiesAndEosFirst) {
  loom::testing::TempDir dir;
  std::string p = dir.File("c.txt");
  ASSERT_TRUE(WriteFileAtomically(p, "c b a\nb a d\nz y\n").ok());
  auto v = LearnVocab(p, {.min_count = 1});
  ASSERT_TRUE(v.ok()) << v.status();
  std::vector<std::string> want = {"</s>", "b", "a", "c", "d", "z", "y"};
  EXPECT_EQ(v->words(), want);
  EXPECT_EQ(v->count(0), 3);
  EXPECT_EQ(v->train_words(), 11);
  auto v2 = LearnVocab(p, {.min_count = 2});
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->size(), 3);
  EXPECT_EQ(v2->train_words(), 3 + 2 + 2);  // counts kept incl. </s>
}

TEST(Vocab, SaveFormatAndReadRoundTrip) {
  loom::testing::TempDir dir;
  std::string p = dir.File("c.txt");
  ASSERT_TRUE(WriteFileAtomically(p, "x y x\ny x\n").ok());
  auto v = LearnVocab(p, {.min_count = 1});
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(SaveVocab(*v, dir.File("v.txt")).ok());
  EXPECT_EQ(*ReadFileToString(dir.File("v.txt")), "</s> 2\nx 3\ny 2\n");
  auto r = ReadVocab(dir.File("v.txt"), 3);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->size(), 2);  // y dropped by min-count, </s> never
  EXPECT_EQ(r->train_words(), 5);
}

TEST(Vocab, ReduceDropsRareEntriesLikeWord2vecC) {
  loom::testing::TempDir dir;
  std::string p = dir.File("c.txt");
  // With max_entries 3 the 4th distinct word triggers a reduce with min_reduce 1: entries
  // with count <= 1 go ("b", "c", the new "d"); "a" (2) stays.
  ASSERT_TRUE(WriteFileAtomically(p, "a a b c d e e e\n").ok());
  auto v = LearnVocab(p, {.min_count = 1, .max_entries = 4});
  ASSERT_TRUE(v.ok()) << v.status();
  std::vector<std::string> want = {"</s>", "e", "a"};
  EXPECT_EQ(v->words(), want);
}

TEST(Vocab, BadInputGivesClearErrors) {
  loom::testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.File("empty"), "").ok());
  auto e = LearnVocab(dir.File("empty"), {});
  EXPECT_EQ(e.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("empty"), std::string::npos);
  ASSERT_TRUE(WriteFileAtomically(dir.File("bin"), std::string("ab\0cd\n", 6)).ok());
  auto b = LearnVocab(dir.File("bin"), {.min_count = 1});
  EXPECT_EQ(b.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(b.status().message().find("offset 2"), std::string::npos);
  EXPECT_EQ(LearnVocab(dir.File("missing"), {}).status().code(), StatusCode::kNotFound);
  // Invalid UTF-8 is carried as bytes (documented), not rejected.
  ASSERT_TRUE(WriteFileAtomically(dir.File("latin1"), "caf\xe9 \xff\xfe caf\xe9\n").ok());
  auto l = LearnVocab(dir.File("latin1"), {.min_count = 1});
  ASSERT_TRUE(l.ok()) << l.status();
  EXPECT_EQ(l->count(l->Find("caf\xe9")), 2);
  // Too few words after min-count.
  ASSERT_TRUE(WriteFileAtomically(dir.File("few"), "a b\n").ok());
  EXPECT_EQ(LearnVocab(dir.File("few"), {.min_count = 5}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ParseVocab("a 1\nb x\n", 1, "v").status().code(), StatusCode::kDataLoss);
}

TEST(Corpus, EncodesInVocabularyIdsWithEosAndDropsOov) {
  loom::testing::TempDir dir;
  std::string p = dir.File("c.txt");
  ASSERT_TRUE(WriteFileAtomically(p, "a a b\nb a rare\n").ok());
  auto v = LearnVocab(p, {.min_count = 2});
  ASSERT_TRUE(v.ok());
  auto n = EncodeCorpus(p, *v, dir.File("t.bin"));
  ASSERT_TRUE(n.ok()) << n.status();
  auto tf = TokenFile::Open(dir.File("t.bin"));
  ASSERT_TRUE(tf.ok());
  std::vector<uint32_t> got((*tf)->tokens().begin(), (*tf)->tokens().end());
  uint32_t a = static_cast<uint32_t>(v->Find("a")), b = static_cast<uint32_t>(v->Find("b"));
  std::vector<uint32_t> want = {a, a, b, 0, b, a, 0};
  EXPECT_EQ(got, want);
  EXPECT_EQ(*n, static_cast<int64_t>(want.size()));
  EXPECT_EQ(*n, v->train_words());
}

}  // namespace
}  // namespace loom::w2v
