// Tokenizer goldens from HF `tokenizers` (tools/golden/tokenizer_goldens.py): ids identical on
// every golden text, decode equal to HF's decode.
#include "loom/phi/tokenizer.h"

#include <gtest/gtest.h>

#include "loom/base/json.h"
#include "loom/phi/gguf.h"
#include "loom/phi/gguf_tokenizer.h"
#include "loom/phi/pretokenize.h"
#include "loom/phi/scored_spm_tokenizer.h"
#include "loom/testing/temp_dir.h"

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

// Every golden text of `name` in golden.json: the same ids and decode as HF `tokenizers`.
void ExpectBpeGolden(const Tokenizer& tok, const std::string& name) {
  auto golden = ReadJsonFile(kDir + "golden.json");
  ASSERT_TRUE(golden.ok()) << golden.status();
  int checked = 0;
  for (const auto& c : golden->raw()[name]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.Encode(text), want) << "text: " << text;
    EXPECT_EQ(tok.Decode(want), c["decoded"].get<std::string>()) << "text: " << text;
    ++checked;
  }
  EXPECT_GE(checked, 15);
}

TEST_P(TokenizerGoldenTest, IdsAndDecodeMatchHfTokenizers) {
  auto tok = BpeTokenizer::FromFile(kDir + GetParam() + "/tokenizer.json");
  ASSERT_TRUE(tok.ok()) << tok.status();
  ExpectBpeGolden(**tok, GetParam());
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

// spm/golden.json: ordinary texts (ids and decode of `sentencepiece`) and texts with Phi-3's
// added tokens (ids of transformers' LlamaTokenizer, rstrip included).
void ExpectSpmGolden(const Tokenizer& tok) {
  auto golden = ReadJsonFile(kDir + "spm/golden.json");
  ASSERT_TRUE(golden.ok());
  int n = 0;
  for (const auto& c : golden->raw()["ordinary"]) {
    const std::string text = c["text"].get<std::string>();
    const auto want = c["ids"].get<std::vector<int32_t>>();
    EXPECT_EQ(tok.Encode(text), want) << "text: " << text;
    EXPECT_EQ(tok.Decode(want), c["decoded"].get<std::string>()) << "text: " << text;
    ++n;
  }
  for (const auto& c : golden->raw()["special"]) {
    const std::string text = c["text"].get<std::string>();
    EXPECT_EQ(tok.Encode(text), c["ids"].get<std::vector<int32_t>>()) << "text: " << text;
    ++n;
  }
  EXPECT_GE(n, 20);
  EXPECT_EQ(tok.TokenId("<|end|>").value_or(-1), 407);
}

TEST(SentencePieceTest, IdsMatchSentencePieceAndLlamaTokenizer) {
  auto tok = LoadTokenizer(kDir + "spm");
  if (!tok.ok() && tok.status().code() == StatusCode::kUnavailable) GTEST_SKIP() << tok.status();
  ASSERT_TRUE(tok.ok()) << tok.status();
  ExpectSpmGolden(**tok);
}

// The same tokenizers stored as GGUF vocabularies the way llama.cpp's converter writes them
// (tools/golden/gguf_vocab_goldens.py): identical ids and decode to the HF goldens.
StatusOr<std::unique_ptr<Tokenizer>> FromVocabGguf(const std::string& name) {
  LOOM_ASSIGN_OR_RETURN(auto file, GgufFile::Open(kDir + name + "/vocab.gguf"));
  return TokenizerFromGguf(*file);
}

TEST_P(TokenizerGoldenTest, GgufVocabularyGivesTheSameIds) {
  auto tok = FromVocabGguf(GetParam());
  ASSERT_TRUE(tok.ok()) << tok.status();
  ExpectBpeGolden(**tok, GetParam());
}

TEST(GgufTokenizerTest, SentencePieceVocabularyMatchesSentencePieceAndLlamaTokenizer) {
  auto tok = FromVocabGguf("spm");
  ASSERT_TRUE(tok.ok()) << tok.status();
  ExpectSpmGolden(**tok);  // Phi-3's rstrip flags restored by name
  const auto ids = (*tok)->Encode("<|user|>\nhi<|end|>");
  EXPECT_EQ((*tok)->Decode(ids, /*skip_special=*/true), "hi");
}

TEST(GgufTokenizerTest, LoadTokenizerReadsTheEmbeddedVocabulary) {
  auto tok = LoadTokenizer(kDir + "cl100k/vocab.gguf");
  ASSERT_TRUE(tok.ok()) << tok.status();
  EXPECT_TRUE((*tok)->TokenId("<|im_end|>").has_value());
}

// A vocabulary GGUF with the given overrides, written to a temp file and opened.
StatusOr<std::unique_ptr<Tokenizer>> Broken(const std::string& model, const std::string& pre,
                                            size_t scores, int type) {
  loom::testing::TempDir dir;
  GgufWriter w;
  w.AddString("tokenizer.ggml.model", model);
  if (!pre.empty()) w.AddString("tokenizer.ggml.pre", pre);
  w.AddStringArray("tokenizer.ggml.tokens", {"<unk>", "a", "b"});
  w.AddI32Array("tokenizer.ggml.token_type", {2, 1, type});
  w.AddF32Array("tokenizer.ggml.scores", std::vector<float>(scores, 0.0f));
  w.AddStringArray("tokenizer.ggml.merges", {"a b"});
  const std::string path = dir.path() + "/v.gguf";
  LOOM_RETURN_IF_ERROR(w.Write(path));
  LOOM_ASSIGN_OR_RETURN(auto file, GgufFile::Open(path));
  return TokenizerFromGguf(*file);
}

TEST(GgufTokenizerTest, BadVocabulariesAreClearErrors) {
  auto bert = Broken("bert", "", 3, 1);
  EXPECT_EQ(bert.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bert.status().message().find("'bert'"), std::string::npos) << bert.status();
  auto scores = Broken("llama", "", 2, 1);
  EXPECT_EQ(scores.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(scores.status().message().find("tokenizer.ggml.scores"), std::string::npos)
      << scores.status();
  auto type = Broken("llama", "", 3, 9);
  EXPECT_EQ(type.status().code(), StatusCode::kDataLoss) << type.status();
  auto pre = Broken("gpt2", "gpt-4o", 3, 1);
  EXPECT_EQ(pre.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(pre.status().message().find("gpt-4o"), std::string::npos) << pre.status();
  // A byte-level vocabulary without all 256 byte symbols cannot encode every input.
  auto bytes = Broken("gpt2", "gpt-2", 3, 1);
  EXPECT_EQ(bytes.status().code(), StatusCode::kInvalidArgument) << bytes.status();
}

// Byte pieces are exactly <0xXX>. sscanf("<0x%2X>") took "<0x-C>" as byte 0xFFFFFFF4 and
// indexed the byte table with it (gguf_fuzz); " 1" and "1Z" passed too.
TEST(SentencePieceTest, ByteFallbackPiecesMustBeTwoHexDigits) {
  auto vocab = [](std::string byte_piece) {
    ScoredSpmTokenizer::Vocab v;
    v.pieces = {"<unk>", "a", byte_piece};
    v.scores = {0, -1, 0};
    v.types = {PieceType::kUnknown, PieceType::kNormal, PieceType::kByte};
    v.source = "test vocab";
    return ScoredSpmTokenizer::FromVocab(std::move(v));
  };
  for (const char* bad :
       {"<0x-C>", "<0x+1>", "<0x 1>", "<0x1Z>", "<0X41>", "<0x41]", "<0x4>", "<0x411>"}) {
    auto t = vocab(bad);
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << bad;
    if (!t.ok()) {
      EXPECT_NE(t.status().message().find("byte piece 2"), std::string::npos) << t.status();
    }
  }
  for (const char* good : {"<0x41>", "<0xfF>", "<0x00>"}) {
    auto t = vocab(good);
    ASSERT_TRUE(t.ok()) << good << ": " << t.status();
    EXPECT_EQ((*t)->Decode(std::vector<int32_t>{2}).size(), 1u) << good;
  }
  auto a = vocab("<0x41>");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ((*a)->Decode(std::vector<int32_t>{2}), "A");
}

}  // namespace
}  // namespace loom::phi
