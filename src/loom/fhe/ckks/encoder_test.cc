// The encoder's FFT against naive O(N^2) evaluation at zeta^(5^j), and round-trip precision.
#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <random>

#include "loom/fhe/ckks/encoder.h"

namespace loom::ckks {
namespace {

ContextPtr MakeContext(uint64_t n, std::vector<int> bits, bool insecure = false) {
  Parameters p;
  p.poly_degree = n;
  p.prime_bits = std::move(bits);
  p.insecure_skip_security_check_for_testing_only = insecure;
  auto c = Context::Create(p);
  LOOM_CHECK_OK(c.status());
  return *c;
}

TEST(Encoder, SpecialFftMatchesNaiveEvaluation) {
  auto ctx = MakeContext(64, {40, 40}, /*insecure=*/true);
  Encoder enc(ctx);
  const size_t n = 64, slots = 32;
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> coeff(n);
  for (auto& c : coeff) c = u(rng);
  std::vector<std::complex<double>> v(slots);
  for (size_t j = 0; j < slots; ++j) v[j] = {coeff[j], coeff[j + slots]};
  enc.CoeffsToSlots(v);
  uint64_t g = 1;
  for (size_t j = 0; j < slots; ++j) {
    std::complex<double> want = 0;
    for (size_t k = 0; k < n; ++k) {
      double ang = std::numbers::pi * static_cast<double>((g * k) % (2 * n)) / n;
      want += coeff[k] * std::complex<double>(std::cos(ang), std::sin(ang));
    }
    EXPECT_NEAR(std::abs(v[j] - want), 0.0, 1e-9) << "slot " << j;
    g = g * 5 % (2 * n);
  }
  enc.SlotsToCoeffs(v);
  for (size_t j = 0; j < slots; ++j) {
    EXPECT_NEAR(v[j].real(), coeff[j], 1e-12);
    EXPECT_NEAR(v[j].imag(), coeff[j + slots], 1e-12);
  }
}

TEST(Encoder, RoundTripPrecision) {
  auto ctx = MakeContext(8192, {60, 40, 40, 60});
  Encoder enc(ctx);
  std::mt19937_64 rng(2);
  std::uniform_real_distribution<double> u(-10, 10);
  std::vector<std::complex<double>> v(4096);
  for (auto& x : v) x = {u(rng), u(rng)};
  for (int level : {0, 2}) {
    auto pt = enc.Encode(v, std::pow(2.0, 40), level);
    ASSERT_TRUE(pt.ok()) << pt.status();
    auto back = enc.Decode(*pt);
    ASSERT_TRUE(back.ok());
    double err = 0;
    for (size_t i = 0; i < v.size(); ++i) err = std::max(err, std::abs((*back)[i] - v[i]));
    EXPECT_LT(err, 1e-9) << "level " << level;  // rounding only: ~N / 2^40
  }
  // Huge scale (product scale, 2^100) exercises the > 2^64 coefficient path.
  auto pt = enc.Encode(v, std::pow(2.0, 100), 2);
  ASSERT_TRUE(pt.ok()) << pt.status();
  auto back = enc.Decode(*pt);
  for (size_t i = 0; i < v.size(); ++i) ASSERT_LT(std::abs((*back)[i] - v[i]), 1e-9);
  // Overflowing Q at level 0 (60 bits) is refused.
  EXPECT_EQ(enc.Encode(v, std::pow(2.0, 62), 0).status().code(), StatusCode::kOutOfRange);
  auto c = enc.EncodeConstant(-3.25, std::pow(2.0, 30), 1);
  ASSERT_TRUE(c.ok());
  auto cv = enc.DecodeReal(*c);
  for (double x : *cv) ASSERT_NEAR(x, -3.25, 1e-8);
}

}  // namespace
}  // namespace loom::ckks
