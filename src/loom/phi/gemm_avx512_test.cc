// The blocked AVX-512 GEMMs (gemm_avx512.h): F32 / F16 against a double-precision dot of the
// dequantized rows (DequantizeRowReference) on odd widths (k tails inside and across
// 256-wide chunks, F16's odd last half), row counts off the 16-row block, token counts off
// the 12-token tile; Q8_0 / Q4_0 against the reference int8 dots; and the LinearForward dispatch
// for 1..13 tokens with bias; the vectorised activations.
#include "loom/phi/gemm_avx512.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "loom/base/random.h"
#include "loom/phi/kernels_avx512.h"
#include "loom/phi/ops.h"
#include "loom/phi/weights.h"

namespace loom::phi {
namespace {

// Reference y[j][r] and the scale of its rounding error (sum of |products|).
void Expect(WeightType t, const std::vector<uint8_t>& w, int64_t out, int64_t n,
            const std::vector<float>& x, int64_t tokens, const std::vector<float>& bias,
            const std::vector<float>& got) {
  std::vector<float> row(static_cast<size_t>(n));
  for (int64_t r = 0; r < out; ++r) {
    DequantizeRowReference(t, w.data() + r * RowBytes(t, n), n, row.data());
    for (int64_t j = 0; j < tokens; ++j) {
      double ref = bias.empty() ? 0.0 : bias[r], mag = 1.0;
      for (int64_t k = 0; k < n; ++k) {
        ref += double(row[k]) * x[j * n + k];
        mag += std::fabs(double(row[k]) * x[j * n + k]);
      }
      ASSERT_NEAR(got[j * out + r], ref, 1e-5 * mag)
          << WeightTypeName(t) << " out " << out << " n " << n << " tokens " << tokens
          << " row " << r << " token " << j;
    }
  }
}

TEST(GemmAvx512Test, MatchesReferenceOnOddShapes) {
  if (!HaveAvx512Kernels()) GTEST_SKIP() << "no AVX-512 on this CPU";
  Prng rng(21);
  struct Shape {
    int64_t out, n, tokens;
  };
  for (const Shape s : {Shape{1, 1, 5}, Shape{17, 33, 7}, Shape{99, 300, 13}, Shape{40, 515, 6},
                        Shape{16, 256, 64}, Shape{5, 16, 1}, Shape{35, 257, 2},
                        Shape{48, 129, 25}}) {
    std::vector<float> wf(static_cast<size_t>(s.out * s.n)), x(static_cast<size_t>(s.tokens * s.n));
    for (float& v : wf) v = static_cast<float>(rng.Normal());
    for (float& v : x) v = static_cast<float>(rng.Normal());
    for (WeightType t : {WeightType::kF32, WeightType::kF16}) {
      std::vector<uint8_t> w(RowBytes(t, s.n) * s.out);
      for (int64_t r = 0; r < s.out; ++r)
        QuantizeRow(t, wf.data() + r * s.n, s.n, w.data() + r * RowBytes(t, s.n));
      std::vector<float> y(static_cast<size_t>(s.tokens * s.out), NAN);
      FGemmAvx512(t, w.data(), s.n, s.out, x.data(), s.tokens, y.data());
      Expect(t, w, s.out, s.n, x, s.tokens, {}, y);
    }
  }
}

// The interleaved int8 GEMM against DotRowReference with the same Q8_0 activations: rows off
// the 16-row block (1, 17, 40), widths off the 8-block chunk (1, 11, 19 blocks), token
// counts off the 8-token tile.
TEST(GemmAvx512Test, QGemmMatchesReferenceDots) {
  if (!HaveAvx512Kernels()) GTEST_SKIP() << "no AVX-512 on this CPU";
  Prng rng(23);
  struct Shape {
    int64_t out, n, tokens;
  };
  for (const Shape s : {Shape{1, 32, 5}, Shape{17, 352, 9}, Shape{40, 608, 13},
                        Shape{16, 256, 64}, Shape{33, 64, 1}}) {
    std::vector<float> wf(static_cast<size_t>(s.out * s.n)), x(static_cast<size_t>(s.tokens * s.n));
    for (float& v : wf) v = static_cast<float>(rng.Normal());
    for (float& v : x) v = static_cast<float>(rng.Normal() * 3);
    x[0] = 1e3f;  // one block at the edge of the int8 range (q = +-127)
    for (WeightType t : {WeightType::kQ8_0, WeightType::kQ4_0}) {
      const size_t row = RowBytes(t, s.n);
      std::vector<uint8_t> w(row * s.out);
      for (int64_t r = 0; r < s.out; ++r) QuantizeRow(t, wf.data() + r * s.n, s.n, w.data() + r * row);
      std::vector<float> y(static_cast<size_t>(s.tokens * s.out), NAN);
      QGemmAvx512(t, w.data(), s.n, s.out, x.data(), s.tokens, y.data());
      std::vector<uint8_t> xq(RowBytes(WeightType::kQ8_0, s.n));
      for (int64_t j = 0; j < s.tokens; ++j) {
        QuantizeRowQ8_0(x.data() + j * s.n, s.n, xq.data());
        for (int64_t r = 0; r < s.out; ++r) {
          const float ref = DotRowReference(t, w.data() + r * row, xq.data(), s.n);
          ASSERT_NEAR(y[j * s.out + r], ref, 1e-4 * (std::fabs(ref) + 1))
              << WeightTypeName(t) << " out " << s.out << " n " << s.n << " tokens " << s.tokens
              << " row " << r << " token " << j;
        }
      }
    }
  }
}

// The 16-lane activation quantizer against the reference one, byte for byte: random blocks
// of several magnitudes, exact .5 ties after scaling (round half away from zero), zeros, an
// fp16-subnormal scale and an odd row length.
TEST(GemmAvx512Test, VectorQ8_0QuantizerEqualsReference) {
  if (!HaveAvx512Kernels()) GTEST_SKIP() << "no AVX-512 on this CPU";
  Prng rng(25);
  std::vector<float> x;
  for (float scale : {1e-6f, 0.01f, 1.0f, 300.0f})
    for (int i = 0; i < 32 * 40; ++i) x.push_back(static_cast<float>(rng.Normal()) * scale);
  for (int i = 0; i < 32; ++i) x.push_back(i == 0 ? 127.0f : (i % 2 ? 1 : -1) * (i * 3.5f + 0.5f));
  for (int i = 0; i < 32; ++i) x.push_back(i == 0 ? -63.5f : (i % 2 ? 1 : -1) * (i + 0.25f));
  for (int i = 0; i < 32; ++i) x.push_back(0.0f);
  for (int i = 0; i < 32; ++i) x.push_back(i == 5 ? 1e-9f : -2e-10f * i);
  for (int64_t n : {static_cast<int64_t>(x.size()), int64_t{96}}) {
    std::vector<uint8_t> ref(RowBytes(WeightType::kQ8_0, n)), got(ref.size(), 0xAB);
    QuantizeRowQ8_0(x.data(), n, ref.data());
    QuantizeRowQ8_0Avx512(x.data(), n, got.data());
    for (size_t i = 0; i < ref.size(); ++i)
      ASSERT_EQ(got[i], ref[i]) << "n " << n << " byte " << i << " (block " << i / kQ8_0Bytes
                                << ")";
  }
}

// Every token count through LinearForward (decode row tiles up to 4 tokens, the blocked GEMM
// past that, OpenBLAS or the portable path without AVX-512), biased, F32 and F16.
TEST(GemmAvx512Test, LinearForwardMatchesReferenceForEveryTokenCount) {
  Prng rng(22);
  const int64_t out = 37, in = 70;
  Linear l{out, in, std::vector<float>(out * in), std::vector<float>(out), WeightType::kF32, {}};
  for (float& v : l.w) v = static_cast<float>(rng.Normal());
  for (float& v : l.b) v = static_cast<float>(rng.Normal());
  std::vector<float> x(13 * in);
  for (float& v : x) v = static_cast<float>(rng.Normal());
  for (WeightType t : {WeightType::kF32, WeightType::kF16}) {
    PhiWeights pw;
    pw.lm_head = l;
    ASSERT_TRUE(QuantizeWeights(pw, t).ok());
    const Linear& q = pw.lm_head;
    std::vector<uint8_t> rows(RowBytes(t, in) * out);
    for (int64_t r = 0; r < out; ++r)
      QuantizeRow(t, l.w.data() + r * in, in, rows.data() + r * RowBytes(t, in));
    for (int64_t tokens = 1; tokens <= 13; ++tokens) {
      std::vector<float> y(static_cast<size_t>(tokens * out), NAN);
      LinearForward(q, x.data(), tokens, y.data());
      Expect(t, rows, out, in, x, tokens, l.b, y);
    }
  }
}

// gelu_new and SwiGLU (libmvec tanhf / expf on AVX-512 CPUs) against the formulas with
// libm's scalar functions, over tails of every length and saturated inputs.
TEST(GemmAvx512Test, ActivationsMatchScalarFormulas) {
  Prng rng(24);
  for (int64_t n : {1, 15, 16, 17, 100, 20000}) {
    std::vector<float> x(static_cast<size_t>(2 * n));
    for (float& v : x) v = static_cast<float>(rng.Normal() * 4);
    x[0] = -30.0f;
    std::vector<float> g = x;
    GeluNew(g.data(), n);
    for (int64_t i = 0; i < n; ++i) {
      const double v = x[i];
      const double ref = 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)));
      ASSERT_NEAR(g[i], ref, 1e-6 * (std::fabs(v) + 1)) << "gelu n " << n << " i " << i;
    }
    std::vector<float> out(static_cast<size_t>(n));
    SwiGlu(x.data(), 1, n, out.data());
    for (int64_t i = 0; i < n; ++i) {
      const double gate = x[i], up = x[n + i];
      const double ref = up * gate / (1 + std::exp(-gate));
      ASSERT_NEAR(out[i], ref, 1e-6 * (std::fabs(ref) + 1)) << "swiglu n " << n << " i " << i;
    }
  }
}

}  // namespace
}  // namespace loom::phi
