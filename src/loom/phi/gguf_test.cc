// The GGUF container: what the writer writes the reader reads back exactly, and every kind of
// damage is DataLoss naming what and where (never a crash: the fuzz target covers the rest).
#include "loom/phi/gguf.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "loom/base/file_io.h"
#include "loom/phi/gguf_phi.h"
#include "loom/testing/temp_dir.h"

namespace loom::phi {
namespace {

using ::testing::HasSubstr;

std::vector<uint8_t> Bytes(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint8_t>(seed + 7 * i);
  return v;
}

// A small file with every value kind and three tensor types; returns its bytes.
std::string WriteSample(const std::string& path) {
  GgufWriter w;
  w.AddString("general.architecture", "phi2");
  w.AddU32("phi2.block_count", 2);
  w.AddI32("answer", -42);
  w.AddF32("phi2.attention.layer_norm_epsilon", 1e-5f);
  w.AddBool("tokenizer.ggml.add_bos_token", true);
  w.AddStringArray("tokenizer.ggml.tokens", {"a", "", "long token"});
  w.AddF32Array("tokenizer.ggml.scores", {0.5f, -1.f, 2.f});
  w.AddI32Array("tokenizer.ggml.token_type", {1, 3, 6});
  static const std::vector<uint8_t> f32 = Bytes(4 * 5 * 3, 1), q8 = Bytes(34 * 2 * 2, 2),
                                    q4 = Bytes(18 * 3, 3);
  LOOM_CHECK_OK(w.AddTensor("a.f32", GgmlType::kF32, {5, 3}, f32));
  LOOM_CHECK_OK(w.AddTensor("b.q8", GgmlType::kQ8_0, {64, 2}, q8));
  LOOM_CHECK_OK(w.AddOwnedTensor("c.q4", GgmlType::kQ4_0, {32, 3}, q4));
  LOOM_CHECK_OK(w.Write(path));
  auto s = ReadFileToString(path);
  LOOM_CHECK_OK(s.status());
  return *s;
}

StatusOr<std::unique_ptr<GgufFile>> ParseString(const std::string& s) {
  return GgufFile::Parse({reinterpret_cast<const uint8_t*>(s.data()), s.size()}, "t.gguf");
}

TEST(GgufTest, ReadsBackWhatWasWritten) {
  testing::TempDir dir;
  WriteSample(dir.File("s.gguf"));
  auto f = GgufFile::Open(dir.File("s.gguf"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->version(), 3u);
  EXPECT_EQ(*(*f)->GetString("general.architecture"), "phi2");
  EXPECT_EQ(*(*f)->GetInt("phi2.block_count"), 2);
  EXPECT_EQ(*(*f)->GetInt("answer"), -42);
  EXPECT_FLOAT_EQ(static_cast<float>(*(*f)->GetFloat("phi2.attention.layer_norm_epsilon")), 1e-5f);
  EXPECT_EQ((*f)->Find("tokenizer.ggml.add_bos_token")->i, 1);
  EXPECT_THAT((*f)->Find("tokenizer.ggml.tokens")->strings,
              ::testing::ElementsAre("a", "", "long token"));
  EXPECT_THAT((*f)->Find("tokenizer.ggml.scores")->numbers, ::testing::ElementsAre(0.5, -1, 2));
  EXPECT_THAT((*f)->Find("tokenizer.ggml.token_type")->numbers, ::testing::ElementsAre(1, 3, 6));
  ASSERT_EQ((*f)->tensors().size(), 3u);
  const GgufTensorInfo* q8 = (*f)->FindTensor("b.q8");
  ASSERT_NE(q8, nullptr);
  EXPECT_EQ(q8->type, GgmlType::kQ8_0);
  EXPECT_THAT(q8->dims, ::testing::ElementsAre(64, 2));
  EXPECT_EQ(q8->offset % 32, 0u);
  const auto data = (*f)->Data(*q8);
  EXPECT_EQ(std::vector<uint8_t>(data.begin(), data.end()), Bytes(34 * 2 * 2, 2));
  const auto q4 = (*f)->Data(*(*f)->FindTensor("c.q4"));
  EXPECT_EQ(std::vector<uint8_t>(q4.begin(), q4.end()), Bytes(18 * 3, 3));
  // Typed getters name the key on a miss or a wrong type.
  EXPECT_EQ((*f)->GetInt("missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*(*f)->GetInt("missing", 7), 7);
  EXPECT_EQ((*f)->GetInt("general.architecture").status().code(), StatusCode::kDataLoss);
}

// AddValue copies a key read from another file in the type it had (vocab keys are copied so).
TEST(GgufTest, CopiedValuesKeepTheirTypeAndValue) {
  testing::TempDir dir;
  GgufWriter w;
  w.AddU32("base", 1);
  ASSERT_TRUE(w.Write(dir.File("a.gguf")).ok());
  GgufValue u64;
  u64.type = GgufValueType::kU64;
  u64.i = int64_t{1} << 40;
  GgufValue i8;
  i8.type = GgufValueType::kI8;
  i8.i = -5;
  GgufValue f64;
  f64.type = GgufValueType::kF64;
  f64.f = 0.1;
  GgufValue u16s;
  u16s.type = GgufValueType::kArray;
  u16s.array_type = GgufValueType::kU16;
  u16s.numbers = {1, 65535};
  u16s.array_length = 2;
  GgufWriter copy;
  for (const auto& [k, v] : std::vector<std::pair<std::string, GgufValue>>{
           {"u64", u64}, {"i8", i8}, {"f64", f64}, {"u16s", u16s}})
    ASSERT_TRUE(copy.AddValue(k, v).ok()) << k;
  GgufValue nested;
  nested.type = GgufValueType::kArray;
  nested.array_type = GgufValueType::kArray;
  nested.array_length = 1;
  EXPECT_EQ(copy.AddValue("nested", nested).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(copy.Write(dir.File("b.gguf")).ok());
  auto f = GgufFile::Open(dir.File("b.gguf"));
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ((*f)->Find("u64")->type, GgufValueType::kU64);
  EXPECT_EQ((*f)->Find("u64")->i, int64_t{1} << 40);
  EXPECT_EQ((*f)->Find("i8")->type, GgufValueType::kI8);
  EXPECT_EQ((*f)->Find("i8")->i, -5);
  EXPECT_EQ((*f)->Find("f64")->type, GgufValueType::kF64);
  EXPECT_EQ((*f)->Find("f64")->f, 0.1);
  EXPECT_EQ((*f)->Find("u16s")->array_type, GgufValueType::kU16);
  EXPECT_THAT((*f)->Find("u16s")->numbers, ::testing::ElementsAre(1, 65535));
}

TEST(GgufTest, EveryTruncationIsDataLoss) {
  testing::TempDir dir;
  const std::string s = WriteSample(dir.File("s.gguf"));
  // Every byte up to the end of the last tensor's data matters (the alignment padding after
  // it does not).
  auto full = ParseString(s);
  ASSERT_TRUE(full.ok()) << full.status();
  size_t end = 0;
  for (const auto& t : (*full)->tensors()) {
    const auto d = (*full)->Data(t);
    end = std::max(end, static_cast<size_t>(d.data() + d.size() -
                                            reinterpret_cast<const uint8_t*>(s.data())));
  }
  ASSERT_LT(s.size() - end, 32u);
  for (size_t n = 0; n < end; n += (n < 600 ? 1 : 37)) {
    auto f = ParseString(s.substr(0, n));
    ASSERT_FALSE(f.ok()) << "prefix of " << n << " bytes parsed";
    EXPECT_EQ(f.status().code(), StatusCode::kDataLoss) << n;
  }
}

// Offsets of fields in the sample's first tensor info, found by name.
size_t TensorInfoAt(const std::string& s, const std::string& name) {
  const size_t at = s.find(name);
  LOOM_CHECK(at != std::string::npos);
  return at + name.size();  // n_dims follows the name
}

void Patch(std::string& s, size_t at, uint64_t v, size_t bytes) {
  std::memcpy(s.data() + at, &v, bytes);
}

TEST(GgufTest, DamagedHeadersAreDataLossNamingWhatAndWhere) {
  testing::TempDir dir;
  const std::string good = WriteSample(dir.File("s.gguf"));
  struct Case {
    std::string what;
    std::function<void(std::string&)> damage;
    std::string expect;
  };
  const size_t b_info = TensorInfoAt(good, "b.q8");  // n_dims u32, 2 dims u64, type u32, offset u64
  const std::vector<Case> cases = {
      {"magic", [](std::string& s) { s[0] = 'X'; }, "bad magic"},
      {"version", [](std::string& s) { Patch(s, 4, 9, 4); }, "version 9"},
      {"counts", [](std::string& s) { Patch(s, 8, uint64_t{1} << 40, 8); }, "more than"},
      {"dims", [&](std::string& s) { Patch(s, b_info, 7, 4); }, "'b.q8' has 7 dims"},
      {"zero dim", [&](std::string& s) { Patch(s, b_info + 4, 0, 8); }, "'b.q8' dim 0"},
      {"partial block", [&](std::string& s) { Patch(s, b_info + 4, 40, 8); }, "not whole blocks"},
      {"type", [&](std::string& s) { Patch(s, b_info + 20, 12, 4); }, "ggml type 12"},
      {"alignment", [&](std::string& s) { Patch(s, b_info + 24, 3, 8); }, "not aligned"},
      {"overlap", [&](std::string& s) { Patch(s, b_info + 24, 0, 8); }, "overlap"},
      {"past end", [&](std::string& s) { Patch(s, b_info + 24, 1 << 20, 8); }, "past the end"},
  };
  for (const Case& c : cases) {
    std::string s = good;
    c.damage(s);
    auto f = ParseString(s);
    ASSERT_FALSE(f.ok()) << c.what;
    EXPECT_EQ(f.status().code(), StatusCode::kDataLoss) << c.what;
    EXPECT_THAT(f.status().message(), HasSubstr(c.expect)) << c.what;
    EXPECT_THAT(f.status().message(), HasSubstr("t.gguf")) << c.what;
  }
}

TEST(GgufTest, WriterRejectsDataOfTheWrongSize) {
  GgufWriter w;
  const std::vector<uint8_t> bytes(10);
  EXPECT_EQ(w.AddTensor("x", GgmlType::kF32, {3}, bytes).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.AddTensor("y", GgmlType::kQ4_0, {16}, bytes).code(), StatusCode::kInvalidArgument);
}

TEST(GgufTest, NotAGgufFileIsRecognised) {
  testing::TempDir dir;
  ASSERT_TRUE(WriteFileAtomically(dir.File("x.json"), "{}").ok());
  EXPECT_FALSE(IsGgufFile(dir.File("x.json")));
  EXPECT_FALSE(IsGgufFile(dir.File("absent")));
  WriteSample(dir.File("s.gguf"));
  EXPECT_TRUE(IsGgufFile(dir.File("s.gguf")));
  // A GGUF of another architecture is refused by name.
  auto f = GgufFile::Open(dir.File("s.gguf"));
  ASSERT_TRUE(f.ok());
  auto c = PhiConfigFromGguf(**f);
  EXPECT_FALSE(c.ok());
}

}  // namespace
}  // namespace loom::phi
