#include "loom/phi/generate.h"

#include <gtest/gtest.h>

#include "loom/base/json.h"
#include "loom/phi/chat_template.h"
#include "loom/phi/reference.h"

namespace loom::phi {
namespace {

const std::string kData = std::string(LOOM_PHI_TESTDATA);

TEST(SamplerTest, GreedyIsArgmaxAndMasksPaddedVocabulary) {
  std::vector<float> logits = {0.1f, 2.0f, -1.0f, 5.0f};
  Sampler greedy({});
  EXPECT_EQ(greedy.Next(logits, {}), 3);
  SamplingOptions o;
  o.vocab_limit = 3;  // id 3 is a padding row
  EXPECT_EQ(Sampler(o).Next(logits, {}), 1);
}

TEST(SamplerTest, RepetitionPenaltyFollowsHfRule) {
  std::vector<float> logits = {3.0f, 2.0f, -1.0f};
  SamplingOptions o;
  o.repetition_penalty = 2.0f;  // 3 -> 1.5 < 2
  std::vector<int32_t> history = {0};
  EXPECT_EQ(Sampler(o).Next(logits, history), 1);
}

TEST(SamplerTest, TopKOneAndTinyTopPAreGreedyAndSeedsAreDeterministic) {
  std::vector<float> logits = {0.5f, 0.4f, 0.3f, 0.2f, 0.45f};
  SamplingOptions o;
  o.temperature = 1.0f;
  o.top_k = 1;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Sampler(o).Next(logits, {}), 0);
  o.top_k = 0;
  o.top_p = 0.01f;
  Sampler s(o);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.Next(logits, {}), 0);
  o.top_p = 1.0f;
  o.seed = 7;
  Sampler a(o), b(o);
  std::vector<int> counts(5, 0);
  for (int i = 0; i < 2000; ++i) {
    const int32_t x = a.Next(logits, {});
    EXPECT_EQ(x, b.Next(logits, {}));
    ++counts[x];
  }
  // Near-uniform logits: every id is drawn, the largest most often.
  for (int c : counts) EXPECT_GT(c, 250);
  EXPECT_EQ(std::max_element(counts.begin(), counts.end()) - counts.begin(), 0);
}

// Greedy generation equals the argmax chain of the reference oracle; for LongRoPE this
// crosses original_max_position (16) and exercises HF's cache reset.
void ExpectGreedyMatchesReference(const std::string& variant, std::vector<int32_t> prompt,
                                  int64_t n) {
  auto model = PhiModel::Load(kData + "/golden/" + variant);
  ASSERT_TRUE(model.ok()) << model.status();
  GenerateOptions o;
  o.max_new_tokens = n;
  std::vector<int32_t> streamed;
  auto r = Generate(**model, prompt, o, [&](int32_t id) {
    streamed.push_back(id);
    return true;
  });
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->tokens, streamed);
  ASSERT_EQ(static_cast<int64_t>(r->tokens.size()), n);
  std::vector<int32_t> seq = prompt;
  const size_t vocab = static_cast<size_t>((*model)->config().vocab_size);
  for (int32_t got : r->tokens) {
    auto logits = ReferenceForward((*model)->config(), (*model)->weights(), seq);
    const float* last = logits.data() + (seq.size() - 1) * vocab;
    const int32_t want = static_cast<int32_t>(std::max_element(last, last + vocab) - last);
    EXPECT_EQ(got, want) << variant << " at length " << seq.size();
    seq.push_back(want);
  }
}

TEST(GenerateTest, GreedyMatchesReferencePhi) {
  ExpectGreedyMatchesReference("phi15", {1, 2, 3, 4, 5}, 8);
}

TEST(GenerateTest, GreedyMatchesReferenceAcrossLongRopeSwitch) {
  ExpectGreedyMatchesReference("phi3_longrope", {9, 8, 7, 6, 5, 4, 3, 2, 1, 10, 11, 12}, 10);
}

TEST(GenerateTest, StopsOnStopId) {
  auto model = PhiModel::Load(kData + "/golden/phi15");
  ASSERT_TRUE(model.ok());
  std::vector<int32_t> prompt = {1, 2, 3, 4, 5};
  GenerateOptions o;
  o.max_new_tokens = 8;
  auto first = Generate(**model, prompt, o);
  ASSERT_TRUE(first.ok());
  o.stop_ids = {first->tokens[2]};
  auto r = Generate(**model, prompt, o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->stopped);
  EXPECT_LE(r->tokens.size(), 3u);
  EXPECT_EQ(r->tokens.back(), first->tokens[2]);
}

TEST(ChatTemplateTest, Phi3MatchesPublishedTemplateRenderings) {
  auto golden = ReadJsonFile(kData + "/tokenizers/golden.json");
  ASSERT_TRUE(golden.ok());
  int n = 0;
  for (const auto& c : golden->raw()["phi3_chat"]) {
    std::vector<ChatMessage> messages;
    for (const auto& m : c["messages"])
      messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    auto text = RenderChat(ChatFormat::kPhi3, messages, c["add_generation_prompt"].get<bool>(),
                           "<|endoftext|>");
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(*text, c["rendered"].get<std::string>());
    ++n;
  }
  EXPECT_EQ(n, 3);
}

TEST(ChatTemplateTest, Phi4HasNoNewlines) {
  auto text = RenderChat(ChatFormat::kPhi4, {{"system", "S"}, {"user", "U"}}, true);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text,
            "<|im_start|>system<|im_sep|>S<|im_end|><|im_start|>user<|im_sep|>U<|im_end|>"
            "<|im_start|>assistant<|im_sep|>");
  EXPECT_FALSE(RenderChat(ChatFormat::kPhi4, {{"tool", "x"}}, true).ok());
}

}  // namespace
}  // namespace loom::phi
