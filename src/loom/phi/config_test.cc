#include "loom/phi/config.h"

#include <gtest/gtest.h>

#include <cmath>

namespace loom::phi {
namespace {

StatusOr<PhiConfig> Parse(const std::string& text) {
  auto doc = ParseJson(text, "config.json");
  if (!doc.ok()) return doc.status();
  return ParsePhiConfig(*doc);
}

TEST(PhiConfigTest, ParsesPhi2) {
  auto c = Parse(R"({"model_type":"phi","vocab_size":51200,"hidden_size":2560,
    "intermediate_size":10240,"num_hidden_layers":32,"num_attention_heads":32,
    "num_key_value_heads":null,"partial_rotary_factor":0.4,"rope_theta":10000.0,
    "layer_norm_eps":1e-05,"max_position_embeddings":2048,"eos_token_id":50256,
    "bos_token_id":50256,"qk_layernorm":false,"tie_word_embeddings":false})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->arch, Arch::kPhi);
  EXPECT_EQ(c->head_dim, 80);
  EXPECT_EQ(c->rotary_dim, 32);
  EXPECT_EQ(c->kv_heads, 32);
  EXPECT_EQ(c->eos_ids, std::vector<int64_t>{50256});
}

TEST(PhiConfigTest, ParsesLegacyMixFormerKeys) {
  auto c = Parse(R"({"model_type":"phi-msft","vocab_size":51200,"n_embd":2048,"n_head":32,
    "n_layer":24,"n_inner":null,"rotary_dim":32,"n_positions":2048,
    "layer_norm_epsilon":1e-05})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->legacy_names);
  EXPECT_EQ(c->intermediate, 8192);
  EXPECT_EQ(c->head_dim, 64);
  EXPECT_EQ(c->rotary_dim, 32);
}

TEST(PhiConfigTest, LongRopeAttentionFactorFollowsHfRule) {
  std::string shorts = "[", longs = "[";
  for (int i = 0; i < 48; ++i) {
    shorts += std::string(i ? "," : "") + "1.0";
    longs += std::string(i ? "," : "") + "2.0";
  }
  shorts += "]";
  longs += "]";
  auto c = Parse(R"({"model_type":"phi3","vocab_size":32064,"hidden_size":3072,
    "intermediate_size":8192,"num_hidden_layers":32,"num_attention_heads":32,
    "num_key_value_heads":32,"max_position_embeddings":131072,
    "original_max_position_embeddings":4096,"sliding_window":262144,"eos_token_id":32000,
    "rope_scaling":{"type":"su","short_factor":)" + shorts + R"(,"long_factor":)" + longs +
                 "}}");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->longrope.has_value());
  EXPECT_NEAR(c->longrope->attention_factor, 1.1902, 1e-4);
  EXPECT_EQ(c->longrope->original_max_position, 4096);
  EXPECT_EQ(c->sliding_window.value_or(0), 262144);
  EXPECT_EQ(c->rotary_dim, 96);
}

TEST(PhiConfigTest, AcceptsTransformersV5RopeParameters) {
  auto c = Parse(R"({"model_type":"phi3","vocab_size":200064,"hidden_size":3072,
    "intermediate_size":8192,"num_hidden_layers":32,"num_attention_heads":24,
    "num_key_value_heads":8,"tie_word_embeddings":true,
    "rope_parameters":{"rope_type":"default","rope_theta":250000.0,
    "partial_rotary_factor":0.75}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->head_dim, 128);
  EXPECT_EQ(c->rotary_dim, 96);
  EXPECT_DOUBLE_EQ(c->rope_theta, 250000.0);
  EXPECT_TRUE(c->tie_embeddings);
}

TEST(PhiConfigTest, RejectsInconsistentConfigs) {
  EXPECT_FALSE(Parse(R"({"model_type":"llama"})").ok());
  EXPECT_FALSE(Parse(R"({"model_type":"phi3","vocab_size":10,"hidden_size":64,
    "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,
    "num_key_value_heads":3})").ok());
  EXPECT_FALSE(Parse(R"({"model_type":"phi","vocab_size":10,"hidden_size":64,
    "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,
    "partial_rotary_factor":0.35})").ok());  // int(16 * 0.35) = 5 is odd
  auto bad_factors = Parse(R"({"model_type":"phi3","vocab_size":10,"hidden_size":64,
    "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":4,
    "rope_scaling":{"type":"longrope","short_factor":[1],"long_factor":[1]}})");
  EXPECT_FALSE(bad_factors.ok());
}

}  // namespace
}  // namespace loom::phi
