#include "loom/phi/safetensors.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

#include "loom/base/file_io.h"
#include "loom/base/half.h"
#include "loom/testing/temp_dir.h"

namespace loom::phi {
namespace {

using ::testing::HasSubstr;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A safetensors image with a hand-written header (for malformed cases).
std::string Image(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  std::memcpy(out.data(), &n, 8);
  return out + header + data;
}

TEST(SafetensorsTest, RoundTripsF32F16Bf16) {
  std::vector<float> a = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -0.125f};
  TensorData h{"h", DType::kF16, {3}, std::string(6, '\0')};
  TensorData b{"b", DType::kBF16, {1, 2}, std::string(4, '\0')};
  for (int i = 0; i < 3; ++i) {
    uint16_t bits = FloatToHalf(a[i]).bits;
    std::memcpy(h.bytes.data() + 2 * i, &bits, 2);
  }
  for (int i = 0; i < 2; ++i) {
    uint16_t bits = FloatToBFloat16(a[i]).bits;
    std::memcpy(b.bytes.data() + 2 * i, &bits, 2);
  }
  std::string image = SerializeSafetensors({F32Tensor("a", {2, 3}, a), h, b});
  auto views = ParseSafetensors(Bytes(image), "mem");
  ASSERT_TRUE(views.ok()) << views.status();
  ASSERT_EQ(views->size(), 3u);
  for (const auto& v : *views) {
    std::vector<float> out = v.ToFloatVector();
    for (size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i], a[i]) << v.name << " " << i;
  }
}

struct BadCase {
  const char* what;
  std::string image;
  const char* message;
};

TEST(SafetensorsTest, RejectsMalformedHeadersWithDataLossNamingTheTensor) {
  const std::string four(16, '\0');
  std::vector<BadCase> cases = {
      {"short", std::string(5, '\0'), "shorter than"},
      {"len past eof", Image("{}", "").substr(0, 8) + "{", "runs past the end"},
      {"cap", [] {
         std::string s(8, '\0');
         uint64_t n = 200ull << 20;
         std::memcpy(s.data(), &n, 8);
         return s;
       }(), "cap"},
      {"bad json", Image("{\"a\":", ""), "header"},
      {"not object", Image("[1,2]", ""), "not a JSON object"},
      {"unknown dtype",
       Image(R"({"w":{"dtype":"F7","shape":[4],"data_offsets":[0,16]}})", four), "'w'"},
      {"size mismatch",
       Image(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", four),
       "tensor 'w': data_offsets [0, 16) hold 16 bytes"},
      {"past end",
       Image(R"({"w":{"dtype":"F32","shape":[8],"data_offsets":[0,32]}})", four),
       "past the data section"},
      {"overlap",
       Image(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
             R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", four),
       "overlaps"},
      {"gap", Image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", four),
       "gap of 8 bytes before tensor 'w'"},
      {"uncovered", Image(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", four),
       "cover 8 bytes of a 16-byte"},
      {"negative dim",
       Image(R"({"w":{"dtype":"F32","shape":[-4],"data_offsets":[0,16]}})", four), "'w'"},
      {"offsets reversed",
       Image(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", four), "'w'"},
      {"metadata not string", Image(R"({"__metadata__":{"a":1}})", ""), "__metadata__"},
      {"huge shape",
       Image(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,16]}})",
             four),
       "overflows"},
  };
  for (const auto& c : cases) {
    auto r = ParseSafetensors(Bytes(c.image), "bad.safetensors");
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kDataLoss) << c.what;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr(c.message)) << c.what;
    EXPECT_THAT(std::string(r.status().message()), HasSubstr("bad.safetensors")) << c.what;
  }
}

TEST(SafetensorsTest, OpensShardedCheckpointThroughIndex) {
  testing::TempDir dir;
  std::vector<float> a = {1, 2}, b = {3, 4, 5};
  ASSERT_TRUE(WriteSafetensors(dir.File("m-1.safetensors"), {F32Tensor("a", {2}, a)}).ok());
  ASSERT_TRUE(WriteSafetensors(dir.File("m-2.safetensors"), {F32Tensor("b", {3}, b)}).ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("model.safetensors.index.json"),
                                  R"({"metadata":{},"weight_map":{"a":"m-1.safetensors",)"
                                  R"("b":"m-2.safetensors"}})")
                  .ok());
  auto ckpt = Checkpoint::Open(dir.path());
  ASSERT_TRUE(ckpt.ok()) << ckpt.status();
  EXPECT_EQ((*ckpt)->files().size(), 2u);
  EXPECT_EQ((*ckpt)->Find("b")->ToFloatVector(), b);
  EXPECT_EQ((*ckpt)->Find("a")->ToFloatVector(), a);
  auto missing = (*ckpt)->Get("c");
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("'c'"));
}

TEST(SafetensorsTest, RejectsIndexThatDisagreesWithShards) {
  testing::TempDir dir;
  std::vector<float> a = {1, 2};
  ASSERT_TRUE(WriteSafetensors(dir.File("m-1.safetensors"), {F32Tensor("a", {2}, a)}).ok());
  ASSERT_TRUE(WriteSafetensors(dir.File("m-2.safetensors"), {F32Tensor("b", {2}, a)}).ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("model.safetensors.index.json"),
                                  R"({"weight_map":{"a":"m-2.safetensors","b":"m-2.safetensors"}})")
                  .ok());
  auto r = Checkpoint::Open(dir.path());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("'a'"));
  ASSERT_TRUE(WriteFileAtomically(dir.File("model.safetensors.index.json"),
                                  R"({"weight_map":{"a":"../m-1.safetensors"}})")
                  .ok());
  EXPECT_FALSE(Checkpoint::Open(dir.path()).ok());
}

}  // namespace
}  // namespace loom::phi
