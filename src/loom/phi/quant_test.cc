// Q8_0 / Q4_0 blocks byte-identical to gguf-py's reference quantizer on fixed vectors
// (tools/golden/quant_goldens.py), AVX2 dots equal to the scalar reference, and the packed
// model paths checked against fp32.
#include "loom/phi/quant.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "loom/base/file_io.h"
#include "loom/base/random.h"
#include "loom/phi/model.h"
#include "loom/phi/ops.h"

namespace loom::phi {
namespace {

const std::string kData = std::string(LOOM_PHI_TESTDATA);

std::vector<uint8_t> ReadBytes(const std::string& path) {
  auto s = ReadFileToString(path);
  LOOM_CHECK_OK(s.status());
  return {s->begin(), s->end()};
}

TEST(QuantTest, BlocksAreByteIdenticalToReferenceQuantizer) {
  const auto raw = ReadBytes(kData + "/quant/input.f32");
  std::vector<float> x(raw.size() / 4);
  std::memcpy(x.data(), raw.data(), raw.size());
  const int64_t n = 256, vectors = static_cast<int64_t>(x.size()) / n;
  ASSERT_EQ(vectors, 10);
  for (auto [type, file] : {std::pair{WeightType::kQ8_0, "q8_0.bin"},
                            std::pair{WeightType::kQ4_0, "q4_0.bin"}}) {
    const auto want = ReadBytes(kData + "/quant/" + file);
    const size_t row = RowBytes(type, n);
    ASSERT_EQ(want.size(), row * vectors);
    for (int64_t v = 0; v < vectors; ++v) {
      std::vector<uint8_t> got(row);
      QuantizeRow(type, x.data() + v * n, n, got.data());
      EXPECT_EQ(0, std::memcmp(got.data(), want.data() + v * row, row))
          << WeightTypeName(type) << " vector " << v;
    }
  }
}

TEST(QuantTest, DequantizedErrorIsWithinHalfAStep) {
  Prng rng(3);
  std::vector<float> x(1024), y(1024);
  for (float& v : x) v = static_cast<float>(rng.Normal());
  std::vector<uint8_t> q(RowBytes(WeightType::kQ8_0, 1024));
  QuantizeRowQ8_0(x.data(), 1024, q.data());
  DequantizeRow(WeightType::kQ8_0, q.data(), 1024, y.data());
  for (int b = 0; b < 32; ++b) {
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    for (int j = 0; j < 32; ++j)
      EXPECT_LE(std::fabs(x[b * 32 + j] - y[b * 32 + j]), amax / 127 * 0.5f + 1e-3f * amax);
  }
}

TEST(QuantTest, SimdDotsEqualScalarReference) {
  Prng rng(9);
  const int64_t n = 512;
  std::vector<float> w(n), x(n);
  for (auto* v : {&w, &x})
    for (float& f : *v) f = static_cast<float>(rng.Normal());
  std::vector<uint8_t> xq(RowBytes(WeightType::kQ8_0, n));
  QuantizeRowQ8_0(x.data(), n, xq.data());
  for (WeightType t : {WeightType::kF16, WeightType::kQ8_0, WeightType::kQ4_0}) {
    std::vector<uint8_t> row(RowBytes(t, n));
    QuantizeRow(t, w.data(), n, row.data());
    const void* act = t == WeightType::kF16 ? static_cast<const void*>(x.data()) : xq.data();
    const float fast = DotRow(t, row.data(), act, n);
    const float ref = DotRowReference(t, row.data(), act, n);
    EXPECT_NEAR(fast, ref, 1e-4 * (std::fabs(ref) + 1)) << WeightTypeName(t);
  }
}

TEST(QuantTest, VnniDotsEqualAvx2DotsBitwise) {
  if (!HaveVnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  Prng rng(12);
  const int64_t n = 2560;
  std::vector<float> w(n), x(n);
  for (auto* v : {&w, &x})
    for (float& f : *v) f = static_cast<float>(rng.Normal() * 4);
  w[0] = x[0] = 1e4f;  // a block with a saturating scale: q = +-127
  std::vector<uint8_t> xq(RowBytes(WeightType::kQ8_0, n));
  QuantizeRowQ8_0(x.data(), n, xq.data());
  for (WeightType t : {WeightType::kQ8_0, WeightType::kQ4_0}) {
    std::vector<uint8_t> row(RowBytes(t, n));
    QuantizeRow(t, w.data(), n, row.data());
    const float vnni = DotRow(t, row.data(), xq.data(), n);
    const float avx2 = DotRowWithoutVnni(t, row.data(), xq.data(), n);
    EXPECT_EQ(std::memcmp(&vnni, &avx2, 4), 0) << WeightTypeName(t) << " " << vnni << " vs " << avx2;
  }
}

TEST(QuantTest, SimdDequantizeEqualsScalarReferenceBitwise) {
  Prng rng(11);
  for (WeightType t : {WeightType::kF16, WeightType::kQ8_0, WeightType::kQ4_0}) {
    // F16 rows need not be whole blocks: 517 exercises the scalar tail.
    const int64_t n = t == WeightType::kF16 ? 517 : 512;
    std::vector<float> w(n), fast(n), ref(n);
    for (float& f : w) f = static_cast<float>(rng.Normal() * 3);
    w[5] = 6e-8f;  // an fp16 subnormal
    std::vector<uint8_t> row(RowBytes(t, n));
    QuantizeRow(t, w.data(), n, row.data());
    DequantizeRow(t, row.data(), n, fast.data());
    DequantizeRowReference(t, row.data(), n, ref.data());
    EXPECT_EQ(0, std::memcmp(fast.data(), ref.data(), n * sizeof(float))) << WeightTypeName(t);
  }
}

// Every packed path (decode mat-vec, prefill GEMM, the AVX-512 register tiles and their row /
// token remainders: 99 rows, 1-4 and 7 tokens; widths of whole Q4_0 decode groups of 128 and
// one with half a group) against the scalar reference dot of each (token, row), with Q8_0
// activations for the Q types as ggml-cpu. Equal up to fp32 summation order.
TEST(QuantTest, PackedLinearMatchesScalarReference) {
  Prng rng(4);
  const int64_t out = 99;
  for (int64_t in : {128, 192}) {
    Linear l{out, in, std::vector<float>(out * in), std::vector<float>(out), WeightType::kF32, {}};
    for (float& v : l.w) v = static_cast<float>(rng.Normal());
    for (float& v : l.b) v = static_cast<float>(rng.Normal());
    std::vector<float> x(7 * in);
    for (float& v : x) v = static_cast<float>(rng.Normal());
    for (WeightType t : {WeightType::kF16, WeightType::kQ8_0, WeightType::kQ4_0}) {
      PhiWeights pw;
      pw.lm_head = l;
      ASSERT_TRUE(QuantizeWeights(pw, t).ok());
      const Linear& q = pw.lm_head;
      for (int64_t tokens : {1, 2, 4, 7}) {
        std::vector<float> got(tokens * out);
        LinearForward(q, x.data(), tokens, got.data());
        for (int64_t j = 0; j < tokens; ++j) {
          std::vector<uint8_t> xq(RowBytes(WeightType::kQ8_0, in));
          QuantizeRowQ8_0(x.data() + j * in, in, xq.data());
          const void* act =
              t == WeightType::kF16 ? static_cast<const void*>(x.data() + j * in) : xq.data();
          for (int64_t r = 0; r < out; ++r) {
            const float ref =
                DotRowReference(t, q.packed.data() + r * RowBytes(t, in), act, in) + l.b[r];
            EXPECT_NEAR(got[j * out + r], ref, 1e-4 * (std::fabs(ref) + 1))
                << WeightTypeName(t) << " in " << in << " tokens " << tokens << " token " << j
                << " row " << r;
          }
        }
      }
    }
  }
}

// phi2's golden checkpoint is stored in F16, so F16 weights are exact: logits must still
// match transformers. Q8_0 / Q4_0 stay close to fp32.
TEST(QuantTest, QuantizedModelsTrackFp32Logits) {
  const std::string dir = kData + "/golden/phi2";
  auto base = PhiModel::Load(dir);
  ASSERT_TRUE(base.ok()) << base.status();
  std::vector<int32_t> ids = {3, 14, 15, 92, 65, 35, 89, 79, 32, 38};
  std::vector<float> ref;
  KvCache c0 = (*base)->NewCache();
  ASSERT_TRUE((*base)->Forward(ids, c0, ref, true).ok());
  double max_ref = 0;
  for (float v : ref) max_ref = std::max(max_ref, std::fabs(double(v)));
  for (auto [t, tol] : {std::pair{WeightType::kF16, 1e-4}, std::pair{WeightType::kQ8_0, 3e-2},
                        std::pair{WeightType::kQ4_0, 2e-1}}) {
    auto m = PhiModel::Load(dir);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE((*m)->Quantize(t).ok());
    // Decode token by token (the packed mat-vec path).
    KvCache cache = (*m)->NewCache();
    std::vector<float> step, all;
    for (int32_t id : ids) {
      ASSERT_TRUE((*m)->Forward({&id, 1}, cache, step).ok());
      all.insert(all.end(), step.begin(), step.end());
    }
    double max_d = 0;
    for (size_t i = 0; i < ref.size(); ++i) max_d = std::max(max_d, std::fabs(double(all[i]) - ref[i]));
    EXPECT_LE(max_d, tol * max_ref) << WeightTypeName(t);
  }
}

}  // namespace
}  // namespace loom::phi
