// Serialization round trips, truncation/corruption -> DataLoss, wrong context -> error.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "loom/fhe/ckks/encoder.h"
#include "loom/fhe/ckks/encryptor.h"
#include "loom/fhe/ckks/evaluator.h"
#include "loom/fhe/ckks/keys.h"
#include "loom/fhe/ckks/serialization.h"

namespace loom::ckks {
namespace {

ContextPtr Small(std::vector<int> bits) {
  Parameters p;
  p.poly_degree = 16;
  p.prime_bits = std::move(bits);
  p.insecure_skip_security_check_for_testing_only = true;
  auto c = Context::Create(p);
  LOOM_CHECK_OK(c.status());
  return *c;
}

TEST(Serialization, RoundTripsEveryKindAndStillComputes) {
  ContextPtr ctx = Small({30, 30});
  KeyGenerator kg(ctx);
  Encoder enc(ctx);
  std::vector<double> v = {1.5, -2.25, 3.0};
  Plaintext pt = *enc.Encode(v, 0x1p20, 0);
  Encryptor e(ctx, kg.CreatePublicKey());
  Ciphertext ct = *e.Encrypt(pt);

  auto params = DeserializeParameters(SerializeParameters(*ctx));
  ASSERT_TRUE(params.ok()) << params.status();
  params->insecure_skip_security_check_for_testing_only = true;
  auto ctx2 = Context::Create(*params);
  ASSERT_TRUE(ctx2.ok());
  EXPECT_EQ((*ctx2)->fingerprint(), ctx->fingerprint());

  auto pt2 = DeserializePlaintext(*ctx, Serialize(pt));
  ASSERT_TRUE(pt2.ok());
  EXPECT_EQ(pt2->data, pt.data);
  EXPECT_EQ(pt2->scale, pt.scale);
  auto ct2 = DeserializeCiphertext(*ctx, Serialize(ct));
  ASSERT_TRUE(ct2.ok());
  EXPECT_EQ(ct2->data, ct.data);
  auto pk2 = DeserializePublicKey(*ctx, Serialize(kg.CreatePublicKey()));
  ASSERT_TRUE(pk2.ok());
  auto sk2 = DeserializeSecretKey(*ctx, Serialize(kg.secret_key()));
  ASSERT_TRUE(sk2.ok());
  EXPECT_EQ(sk2->data, kg.secret_key().data);
  auto rk2 = DeserializeRelinKey(*ctx, Serialize(kg.CreateRelinKey()));
  ASSERT_TRUE(rk2.ok());
  std::vector<int64_t> steps = {1};
  auto gk2 = DeserializeGaloisKeys(*ctx, Serialize(*kg.CreateGaloisKeys(steps, true)));
  ASSERT_TRUE(gk2.ok());
  EXPECT_EQ(gk2->keys.size(), 2u);
  // A deserialized ciphertext and keys still decrypt correctly after rotate.
  Evaluator ev(ctx);
  auto rot = ev.RotateLeft(*ct2, 1, *gk2);
  ASSERT_TRUE(rot.ok());
  Decryptor d(ctx, *sk2);
  auto out = *enc.DecodeReal(*d.Decrypt(*rot));
  EXPECT_NEAR(out[0], -2.25, 1e-2);
  EXPECT_NEAR(out[1], 3.0, 1e-2);
}

TEST(Serialization, TruncationAndCorruptionAreDataLoss) {
  ContextPtr ctx = Small({30, 30});
  KeyGenerator kg(ctx);
  Encoder enc(ctx);
  Encryptor e(ctx, kg.CreatePublicKey());
  std::vector<double> v = {1.0};
  std::string blob = Serialize(*e.Encrypt(*enc.Encode(v, 0x1p20, 0)));
  for (size_t cut = 0; cut < blob.size(); cut += 7)
    EXPECT_EQ(DeserializeCiphertext(*ctx, blob.substr(0, cut)).status().code(),
              StatusCode::kDataLoss) << cut;
  for (size_t pos = 0; pos < blob.size(); pos += 13) {
    std::string bad = blob;
    bad[pos] ^= 0x5a;
    EXPECT_EQ(DeserializeCiphertext(*ctx, bad).status().code(), StatusCode::kDataLoss) << pos;
  }
  // A valid blob of another kind is refused.
  EXPECT_EQ(DeserializePlaintext(*ctx, blob).status().code(), StatusCode::kDataLoss);
}

TEST(Serialization, WrongContextIsFailedPrecondition) {
  ContextPtr a = Small({30, 30}), b = Small({30, 31});
  KeyGenerator kg(a);
  Encoder enc(a);
  Encryptor e(a, kg.CreatePublicKey());
  std::vector<double> v = {1.0};
  std::string blob = Serialize(*e.Encrypt(*enc.Encode(v, 0x1p20, 0)));
  auto s = DeserializeCiphertext(*b, blob);
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("different CKKS context"), std::string::npos);
}

// Dev-time: LOOM_WRITE_CKKS_CORPUS=<dir> writes the fuzz seed corpus (committed in testdata).
TEST(Serialization, WriteFuzzCorpusWhenAsked) {
  const char* dir = std::getenv("LOOM_WRITE_CKKS_CORPUS");
  if (dir == nullptr) GTEST_SKIP() << "corpus writer (dev-time only)";
  ContextPtr ctx = Small({30, 30});
  KeyGenerator kg(ctx);
  Encoder enc(ctx);
  Encryptor e(ctx, kg.CreatePublicKey());
  std::vector<double> v = {1.0, 2.0};
  Plaintext pt = *enc.Encode(v, 0x1p20, 0);
  std::vector<int64_t> steps = {1};
  std::vector<std::pair<std::string, std::string>> seeds = {
      {"params", std::string(1, '\x80') + SerializeParameters(*ctx)},
      {"plaintext", std::string(1, '\x81') + Serialize(pt)},
      {"ciphertext", std::string(1, '\x82') + Serialize(*e.Encrypt(pt))},
      {"public_key", std::string(1, '\x83') + Serialize(kg.CreatePublicKey())},
      {"relin_key", std::string(1, '\x84') + Serialize(kg.CreateRelinKey())},
      {"galois_keys", std::string(1, '\x85') + Serialize(*kg.CreateGaloisKeys(steps, false))},
      {"ciphertext_nofix", std::string(1, '\x02') + Serialize(*e.Encrypt(pt))},
  };
  std::filesystem::create_directories(dir);
  for (const auto& [name, data] : seeds) {
    std::ofstream out(std::filesystem::path(dir) / name, std::ios::binary);
    out << data;
  }
}

}  // namespace
}  // namespace loom::ckks
