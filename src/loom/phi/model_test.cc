// Logit goldens from HF transformers (tools/golden/phi_goldens.py, committed under
// testdata/golden): the fast model (full pass and token-by-token KV-cache decode) and the
// reference oracle must match within 1e-4 * max|golden| with identical argmax.
#include "loom/phi/model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "loom/base/file_io.h"
#include "loom/base/json.h"
#include "loom/phi/gguf_phi.h"
#include "loom/phi/reference.h"
#include "loom/phi/safetensors.h"
#include "loom/testing/temp_dir.h"

namespace loom::phi {
namespace {

const std::string kGolden = std::string(LOOM_PHI_TESTDATA) + "/golden/";

std::vector<float> ReadF32(const std::string& path) {
  auto data = ReadFileToString(path);
  LOOM_CHECK_OK(data.status());
  std::vector<float> v(data->size() / 4);
  std::memcpy(v.data(), data->data(), v.size() * 4);
  return v;
}

size_t Argmax(const float* x, size_t n) {
  return static_cast<size_t>(std::max_element(x, x + n) - x);
}

// max|a - g| <= 1e-4 * max|g| and identical argmax per row of width n.
void ExpectClose(const float* a, const float* g, size_t rows, size_t n, const std::string& what) {
  double max_g = 0, max_d = 0;
  for (size_t i = 0; i < rows * n; ++i) {
    max_g = std::max(max_g, std::fabs(double(g[i])));
    max_d = std::max(max_d, std::fabs(double(a[i]) - g[i]));
  }
  EXPECT_LE(max_d, 1e-4 * max_g) << what << ": max|diff| " << max_d << " max|golden| " << max_g;
  for (size_t r = 0; r < rows; ++r)
    EXPECT_EQ(Argmax(a + r * n, n), Argmax(g + r * n, n)) << what << " row " << r;
}

struct Run {
  std::vector<std::vector<int32_t>> tokens;
  std::vector<float> full, decode;
};

std::vector<Run> ReadRuns(const std::string& variant) {
  auto manifest = ReadJsonFile(kGolden + variant + "/manifest.json");
  LOOM_CHECK_OK(manifest.status());
  std::vector<Run> runs;
  for (const auto& r : manifest->raw()["runs"]) {
    Run run;
    for (const auto& seq : r["tokens"]) run.tokens.push_back(seq.get<std::vector<int32_t>>());
    run.full = ReadF32(kGolden + variant + "/" + r["full"].get<std::string>());
    run.decode = ReadF32(kGolden + variant + "/" + r["decode"].get<std::string>());
    runs.push_back(std::move(run));
  }
  return runs;
}

void CheckVariant(const std::string& dir, const std::string& variant, bool with_reference) {
  auto model = PhiModel::Load(dir);
  ASSERT_TRUE(model.ok()) << model.status();
  const size_t vocab = static_cast<size_t>((*model)->config().vocab_size);
  for (const Run& run : ReadRuns(variant)) {
    const size_t len = run.tokens[0].size();
    const std::string tag = variant + " len " + std::to_string(len);
    for (size_t b = 0; b < run.tokens.size(); ++b) {
      KvCache cache = (*model)->NewCache();
      std::vector<float> logits;
      ASSERT_TRUE((*model)->Forward(run.tokens[b], cache, logits, /*all_logits=*/true).ok());
      ExpectClose(logits.data(), run.full.data() + b * len * vocab, len, vocab,
                  tag + " full pass, sequence " + std::to_string(b));
      if (with_reference) {
        std::vector<float> ref =
            ReferenceForward((*model)->config(), (*model)->weights(), run.tokens[b]);
        ExpectClose(ref.data(), run.full.data() + b * len * vocab, len, vocab,
                    tag + " reference, sequence " + std::to_string(b));
      }
    }
    {
      // Last-token-only prefill (the last layer runs attention and MLP on that row alone),
      // and a prefill of len - 1 tokens that way followed by one decode step: the skipped
      // rows must not be missing from the cache.
      KvCache cache = (*model)->NewCache();
      std::vector<float> last, step;
      ASSERT_TRUE((*model)->Forward(run.tokens[0], cache, last).ok());
      ExpectClose(last.data(), run.full.data() + (len - 1) * vocab, 1, vocab,
                  tag + " last-token prefill");
      if (len > 2) {
        cache = (*model)->NewCache();
        ASSERT_TRUE((*model)->Forward({run.tokens[0].data(), len - 1}, cache, last).ok());
        ExpectClose(last.data(), run.full.data() + (len - 2) * vocab, 1, vocab,
                    tag + " last-token prefill of len - 1");
        ASSERT_TRUE((*model)->Forward({&run.tokens[0][len - 1], 1}, cache, step).ok());
        ExpectClose(step.data(), run.full.data() + (len - 1) * vocab, 1, vocab,
                    tag + " decode after a last-token prefill");
      }
    }
    KvCache cache = (*model)->NewCache();
    std::vector<float> step, all;
    for (size_t t = 0; t < len; ++t) {
      ASSERT_TRUE((*model)->Forward({&run.tokens[0][t], 1}, cache, step).ok());
      all.insert(all.end(), step.begin(), step.end());
    }
    ExpectClose(all.data(), run.decode.data(), len, vocab, tag + " decode");
  }
}

class GoldenTest : public ::testing::TestWithParam<const char*> {};

TEST_P(GoldenTest, LogitsMatchTransformers) {
  CheckVariant(kGolden + GetParam(), GetParam(), /*with_reference=*/true);
}

INSTANTIATE_TEST_SUITE_P(Variants, GoldenTest,
                         ::testing::Values("phi15", "phi2", "phi3_mini", "phi3_swa",
                                           "phi3_longrope", "phi4", "phi4_mini"));

TEST(PhiModelTest, PrefillThenDecodeEqualsFullPass) {
  auto model = PhiModel::Load(kGolden + "phi3_swa");
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<int32_t> ids = {5, 17, 200, 3, 99, 42, 7, 7, 1, 250, 128};
  KvCache a = (*model)->NewCache(), b = (*model)->NewCache();
  std::vector<float> full, part, step;
  ASSERT_TRUE((*model)->Forward(ids, a, full, true).ok());
  ASSERT_TRUE((*model)->Forward({ids.data(), 6}, b, part, true).ok());
  for (size_t t = 6; t < ids.size(); ++t) {
    ASSERT_TRUE((*model)->Forward({&ids[t], 1}, b, step).ok());
    part.insert(part.end(), step.begin(), step.end());
  }
  ExpectClose(part.data(), full.data(), ids.size(), 256, "prefill+decode");
}

TEST(PhiModelTest, RejectsOutOfVocabularyTokens) {
  auto model = PhiModel::Load(kGolden + "phi15");
  ASSERT_TRUE(model.ok()) << model.status();
  KvCache cache = (*model)->NewCache();
  std::vector<float> logits;
  std::vector<int32_t> ids = {1, 256};
  EXPECT_EQ((*model)->Forward(ids, cache, logits).code(), StatusCode::kInvalidArgument);
}

// Rewrites the phi-2 golden checkpoint under the legacy MixFormer names (fused Wqkv) and
// config keys; it must give the same logits.
TEST(PhiModelTest, LegacyMixFormerCheckpointMatchesGolden) {
  testing::TempDir dir;
  auto ckpt = Checkpoint::Open(kGolden + "phi2");
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  std::vector<TensorData> out;
  auto copy = [&](const std::string& from, const std::string& to) {
    const TensorView* t = (*ckpt)->Find(from);
    ASSERT_NE(t, nullptr) << from;
    out.push_back({to, t->dtype, t->shape, std::string(t->bytes.begin(), t->bytes.end())});
  };
  copy("model.embed_tokens.weight", "transformer.embd.wte.weight");
  for (int l = 0; l < 2; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const std::string n = "transformer.h." + std::to_string(l) + ".";
    copy(p + "input_layernorm.weight", n + "ln.weight");
    copy(p + "input_layernorm.bias", n + "ln.bias");
    for (const char* kind : {"weight", "bias"}) {
      TensorData fused{n + "mixer.Wqkv." + kind, DType::kF16, {}, ""};
      int64_t rows = 0;
      for (const char* proj : {"q_proj", "k_proj", "v_proj"}) {
        const TensorView* t = (*ckpt)->Find(p + "self_attn." + proj + "." + kind);
        ASSERT_NE(t, nullptr);
        fused.bytes.append(t->bytes.begin(), t->bytes.end());
        rows += t->shape[0];
        fused.shape = t->shape;
      }
      fused.shape[0] = rows;
      out.push_back(fused);
    }
    copy(p + "self_attn.dense.weight", n + "mixer.out_proj.weight");
    copy(p + "self_attn.dense.bias", n + "mixer.out_proj.bias");
    for (const char* fc : {"fc1", "fc2"})
      for (const char* kind : {"weight", "bias"})
        copy(p + "mlp." + fc + "." + kind, n + "mlp." + fc + "." + kind);
  }
  copy("model.final_layernorm.weight", "lm_head.ln.weight");
  copy("model.final_layernorm.bias", "lm_head.ln.bias");
  copy("lm_head.weight", "lm_head.linear.weight");
  copy("lm_head.bias", "lm_head.linear.bias");
  ASSERT_TRUE(WriteSafetensors(dir.File("model.safetensors"), out).ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("config.json"),
                                  R"({"model_type":"phi-msft","vocab_size":256,"n_embd":64,
                                  "n_head":4,"n_layer":2,"n_inner":256,"rotary_dim":6,
                                  "n_positions":128,"layer_norm_epsilon":1e-5})")
                  .ok());
  CheckVariant(dir.path(), "phi2", /*with_reference=*/false);
}

TEST(PhiModelTest, RejectsCheckpointWithWrongShapeNamingTheTensor) {
  testing::TempDir dir;
  auto ckpt = Checkpoint::Open(kGolden + "phi15");
  ASSERT_TRUE(ckpt.ok());
  std::vector<TensorData> out;
  for (const auto& [name, t] : (*ckpt)->tensors()) {
    TensorData d{name, t.dtype, t.shape, std::string(t.bytes.begin(), t.bytes.end())};
    if (name == "model.layers.1.mlp.fc1.bias") {
      d.shape = {255};
      d.bytes.resize(255 * 4);
    }
    out.push_back(d);
  }
  ASSERT_TRUE(WriteSafetensors(dir.File("model.safetensors"), out).ok());
  auto config = ReadFileToString(kGolden + "phi15/config.json");
  ASSERT_TRUE(WriteFileAtomically(dir.File("config.json"), *config).ok());
  auto model = PhiModel::Load(dir.path());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(std::string(model.status().message()),
              ::testing::HasSubstr("model.layers.1.mlp.fc1.bias"));
}

TEST(PhiModelTest, RejectsTruncatedCheckpointFile) {
  testing::TempDir dir;
  auto data = ReadFileToString(kGolden + "phi15/model.safetensors");
  ASSERT_TRUE(data.ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("model.safetensors"),
                                  data->substr(0, data->size() - 100)).ok());
  auto config = ReadFileToString(kGolden + "phi15/config.json");
  ASSERT_TRUE(WriteFileAtomically(dir.File("config.json"), *config).ok());
  auto model = PhiModel::Load(dir.path());
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kDataLoss);
}


// GGUF files of the golden checkpoints made by llama.cpp's own converter (convert_hf_to_gguf.py
// via bench/phi_to_gguf.py, in the checkpoint's own precision; committed): loom reads llama.cpp's names, dims order,
// separate or fused q/k/v, LongRoPE factor tensors and tied heads, and matches transformers.
class LlamaCppGgufTest : public ::testing::TestWithParam<const char*> {};

TEST_P(LlamaCppGgufTest, LogitsMatchTransformers) {
  const std::string file = GetParam();
  const std::string variant = file.substr(0, file.find('/'));
  CheckVariant(kGolden + file, variant, /*with_reference=*/false);
}

INSTANTIATE_TEST_SUITE_P(Variants, LlamaCppGgufTest,
                         ::testing::Values("phi2/llamacpp_f16.gguf", "phi3_longrope/llamacpp_f32.gguf",
                                           "phi4_mini/llamacpp_f32.gguf"));

// Cross-engine: the same converter GGUFs run by llama.cpp itself (its logits committed by
// tools/golden/llamacpp_logit_goldens.sh: one batch, fp32 KV cache). llama.cpp sits 1.7e-4
// (phi4_mini) and 3.2e-4 (phi2, F16) x max|logit| from transformers, loom 2e-7, so the bound
// is 1e-3 x max|llama.cpp| with identical argmax at every position: wide enough for
// llama.cpp's own rounding, orders of magnitude below what a layout or rotary mistake gives.
TEST(LlamaCppLogitsTest, LoomMatchesLlamaCppOnItsConverterGgufs) {
  for (const std::string variant : {"phi2", "phi4_mini"}) {
    auto manifest = ReadJsonFile(kGolden + variant + "/llamacpp_logits.json");
    ASSERT_TRUE(manifest.ok()) << manifest.status();
    const auto ids = manifest->raw()["tokens"].get<std::vector<int32_t>>();
    const std::vector<float> ref =
        ReadF32(kGolden + variant + "/" + manifest->raw()["logits"].get<std::string>());
    auto model =
        PhiModel::Load(kGolden + variant + "/" + manifest->raw()["gguf"].get<std::string>());
    ASSERT_TRUE(model.ok()) << model.status();
    const size_t vocab = static_cast<size_t>((*model)->config().vocab_size);
    ASSERT_EQ(ref.size(), ids.size() * vocab) << variant;
    KvCache cache = (*model)->NewCache();
    std::vector<float> logits;
    ASSERT_TRUE((*model)->Forward(ids, cache, logits, true).ok());
    double max_r = 0, max_d = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      max_r = std::max(max_r, std::fabs(double(ref[i])));
      max_d = std::max(max_d, std::fabs(double(logits[i]) - ref[i]));
    }
    EXPECT_LE(max_d, 1e-3 * max_r)
        << variant << ": max|diff| " << max_d << " max|llama.cpp| " << max_r;
    EXPECT_GT(max_d, 0.0) << variant
                          << ": identical to the last bit is not expected of two engines";
    for (size_t j = 0; j < ids.size(); ++j)
      EXPECT_EQ(Argmax(logits.data() + j * vocab, vocab), Argmax(ref.data() + j * vocab, vocab))
          << variant << " position " << j;
  }
}

// loom's own GGUF writer: every golden variant written as F32 GGUF and read back gives the
// transformers logits (config keys, LongRoPE, sliding window, tied head all survive).
class GgufRoundTripTest : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufRoundTripTest, WrittenF32FileMatchesTransformers) {
  const std::string variant = GetParam();
  auto model = PhiModel::Load(kGolden + variant);
  ASSERT_TRUE(model.ok()) << model.status();
  testing::TempDir dir;
  const std::string path = dir.File("model.gguf");
  ASSERT_TRUE(WritePhiGguf(path, (*model)->config(), (*model)->weights(), {}).ok());
  CheckVariant(path, variant, /*with_reference=*/true);
}

INSTANTIATE_TEST_SUITE_P(Variants, GgufRoundTripTest,
                         ::testing::Values("phi15", "phi2", "phi3_mini", "phi3_swa",
                                           "phi3_longrope", "phi4", "phi4_mini"));

// A quantized model written and read back runs bit-identically to the in-memory one.
TEST(GgufRoundTripTest, QuantizedFileRunsBitIdentically) {
  for (WeightType t : {WeightType::kF16, WeightType::kQ8_0, WeightType::kQ4_0}) {
    auto model = PhiModel::Load(kGolden + "phi3_mini");
    ASSERT_TRUE(model.ok()) << model.status();
    ASSERT_TRUE((*model)->Quantize(t).ok());
    testing::TempDir dir;
    const std::string path = dir.File("q.gguf");
    ASSERT_TRUE(WritePhiGguf(path, (*model)->config(), (*model)->weights(), {}).ok());
    auto back = PhiModel::Load(path);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ((*back)->weights().layers[0].qkv.type, t);
    EXPECT_EQ((*back)->weights().layers[1].down.packed, (*model)->weights().layers[1].down.packed);
    std::vector<int32_t> ids = {3, 1, 4, 1, 5, 9, 2, 6};
    KvCache a = (*model)->NewCache(), b = (*back)->NewCache();
    std::vector<float> la, lb;
    ASSERT_TRUE((*model)->Forward(ids, a, la, true).ok());
    ASSERT_TRUE((*back)->Forward(ids, b, lb, true).ok());
    ASSERT_EQ(la.size(), lb.size());
    EXPECT_EQ(0, std::memcmp(la.data(), lb.data(), la.size() * 4)) << WeightTypeName(t);
  }
}

// A GGUF whose tensor has the wrong shape for its config is rejected naming the tensor.
TEST(GgufRoundTripTest, WrongTensorShapeIsDataLossNamingTheTensor) {
  auto model = PhiModel::Load(kGolden + "phi3_mini");
  ASSERT_TRUE(model.ok()) << model.status();
  PhiConfig c = (*model)->config();
  c.intermediate += 32;  // the file's ffn_down no longer matches
  testing::TempDir dir;
  ASSERT_TRUE(WritePhiGguf(dir.File("bad.gguf"), c, (*model)->weights(), {}).ok());
  auto back = PhiModel::Load(dir.File("bad.gguf"));
  ASSERT_FALSE(back.ok());
  EXPECT_EQ(back.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(back.status().message(), ::testing::HasSubstr("blk.0.ffn_up.weight"));
}

}  // namespace
}  // namespace loom::phi
