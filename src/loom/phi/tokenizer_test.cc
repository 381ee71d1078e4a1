// Tokenizer goldens from HF `tokenizers` (tools/golden/tokenizer_goldens.py): ids identical on
// every golden text, decode equal to HF's decode.
#include "loom/phi/tokenizer.h"

#include <gtest/gtest.h>

#include "loom/base/json.h"
#include "loom/phi/pretokenize.h"

namespace loom::phi {
namespace {

const std::string kDir = std::string(LOOM_PHI_TESTDATA) + "/tokenizers/";

std::vector<std::string> Pieces(const std::vector<std::string_view>& v) {
  return {v.begin(), v.end()};
}

TEST(PretokenizeTest, Gpt2SplitsLikeItsRegex) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Pieces(SplitGpt2("Hello world's  end  ")),
            (V{"Hello", " world", "'s", " ", " end", "  "}));
  EXPECT_EQ(Pieces(SplitGpt2("x=42;\n\tif")), (V{"x", "=", "42", ";", "\n", "\t", "if"}));
  EXPECT_EQ(Pieces(SplitGpt2("a   b")), (V{"a", "  ", " b"}));
}

TEST(PretokenizeTest, Cl100kSplitsLikeItsRegex) {
  using V = std::vector<std::string>;
  EXPECT_EQ(Pieces(SplitCl100k("I'M 12345 (ok)\r\n\n  x")),
            (V{"I", "'M", " ", "123", "45", " (", "ok", ")\r\n\n", " ", " x"}));
  EXPECT_EQ(Pieces(SplitCl100k("a \n b")), (V{"a", " \n", " b"}));
}

class TokenizerGoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(TokenizerGoldenTest, IdsAndDecodeMatchHfTokenizers) {
  auto tok = BpeTokenizer::FromFile(kDir + GetParam() + "/tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto golden = ReadJsonFile(kDir + "golden.json");
  ASSERT_TRUE(golden.ok()) << golden.status();
  int checked = 0;
  for (const auto& c : golden->raw()[GetParam()]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ((*tok)->Encode(text), want) << "text: " << text;
    EXPECT_EQ((*tok)->Decode(want), c["decoded"].get<std::string>()) << "text: " << text;
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

INSTANTIATE_TEST_SUITE_P(Files, TokenizerGoldenTest, ::testing::Values("gpt2", "cl100k"));

TEST(TokenizerTest, InvalidUtf8RoundTripsThroughBytes) {
  auto tok = BpeTokenizer::FromFile(kDir + "cl100k/tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.status();
  const std::string text = "ok \xff\xfe bad \xe2\x82 cut";
  EXPECT_EQ((*tok)->Decode((*tok)->Encode(text)), text);
}

TEST(TokenizerTest, SpecialTokensAreSplitOutAndSkippable) {
  auto tok = BpeTokenizer::FromFile(kDir + "cl100k/tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto end = (*tok)->TokenId("<|im_end|>");
  ASSERT_TRUE(end.has_value());
  auto ids = (*tok)->Encode("hi<|im_end|>");
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.back(), *end);
  EXPECT_EQ((*tok)->Decode(ids, /*skip_special=*/true), "hi");
}

TEST(TokenizerTest, RejectsNonByteLevelFiles) {
  auto doc = ParseJson(R"({"model":{"type":"BPE","vocab":{},"merges":[]},
                           "pre_tokenizer":{"type":"Metaspace"}})", "t.json");
  ASSERT_TRUE(doc.ok());
  EXPECT_FALSE(BpeTokenizer::FromJson(*doc).ok());
}

TEST(SentencePieceTest, IdsMatchSentencePieceAndLlamaTokenizer) {
  auto tok = LoadTokenizer(kDir + "spm");
  if (!tok.ok() && tok.status().code() == StatusCode::kUnavailable)
    GTEST_SKIP() << tok.status();
  ASSERT_TRUE(tok.ok()) << tok.status();
  auto golden = ReadJsonFile(kDir + "spm/golden.json");
  ASSERT_TRUE(golden.ok());
  int n = 0;
  for (const auto& c : golden->raw()["ordinary"]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ((*tok)->Encode(text), want) << "text: " << text;
    EXPECT_EQ((*tok)->Decode(want), c["decoded"].get<std::string>()) << "text: " << text;
    ++n;
  }
  for (const auto& c : golden->raw()["special"]) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ((*tok)->Encode(text), c["ids"].get<std::vector<int32_t>>()) << "text: " << text;
    ++n;
  }
  EXPECT_GE(n, 20);
  EXPECT_EQ((*tok)->TokenId("<|end|>").value_or(-1), 407);
}

}  // namespace
}  // namespace loom::phi
