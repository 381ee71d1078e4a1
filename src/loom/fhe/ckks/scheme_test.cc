// Every homomorphic operation against the plaintext computation, with stated error bounds.
// Bounds (N = 8192, Delta = 2^40, sigma ~ 3.2): fresh public-key encryption adds per-slot
// error ~ 3.7 N / Delta ~ 3e-8; rescale ~ 0.24 N / Delta'; key switching adds ~ N sigma q / P
// / Delta. Tolerances below are 4-8x the heuristic.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "loom/fhe/ckks/encoder.h"
#include "loom/fhe/ckks/encryptor.h"
#include "loom/fhe/ckks/evaluator.h"
#include "loom/fhe/ckks/keys.h"
#include "loom/fhe/ckks/modarith.h"
#include "loom/fhe/ckks/rns.h"

namespace loom::ckks {
namespace {

using Vec = std::vector<std::complex<double>>;

double MaxErr(const Vec& a, const Vec& b) {
  double e = 0;
  for (size_t i = 0; i < a.size(); ++i) e = std::max(e, std::abs(a[i] - b[i]));
  return e;
}

class Scheme : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Parameters p;
    p.poly_degree = 8192;
    p.prime_bits = {60, 40, 40, 60};
    auto c = Context::Create(p);
    LOOM_CHECK_OK(c.status());
    ctx_ = new ContextPtr(*c);
    keygen_ = new KeyGenerator(*ctx_);
    rk_ = new RelinKey(keygen_->CreateRelinKey());
    std::vector<int64_t> steps = {1, -1, 5, 100, -4095};
    gk_ = new GaloisKeys(*keygen_->CreateGaloisKeys(steps, true));
  }
  static void TearDownTestSuite() {
    delete gk_;
    delete rk_;
    delete keygen_;
    delete ctx_;
  }
  Vec Random(double bound, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-bound, bound);
    Vec v((*ctx_)->slots());
    for (auto& x : v) x = {u(rng), u(rng)};
    return v;
  }
  Ciphertext Enc(const Vec& v, int level = 2, double scale = 0x1p40) {
    Encoder enc(*ctx_);
    Encryptor e(*ctx_, keygen_->CreatePublicKey());
    return *e.Encrypt(*enc.Encode(v, scale, level));
  }
  Vec Dec(const Ciphertext& ct) {
    Decryptor d(*ctx_, keygen_->secret_key());
    Encoder enc(*ctx_);
    auto pt = d.Decrypt(ct);
    LOOM_CHECK_OK(pt.status());
    return *enc.Decode(*pt);
  }
  static ContextPtr* ctx_;
  static KeyGenerator* keygen_;
  static RelinKey* rk_;
  static GaloisKeys* gk_;
};
ContextPtr* Scheme::ctx_ = nullptr;
KeyGenerator* Scheme::keygen_ = nullptr;
RelinKey* Scheme::rk_ = nullptr;
GaloisKeys* Scheme::gk_ = nullptr;

TEST_F(Scheme, PublicAndSecretKeyEncryptionDecrypt) {
  Vec v = Random(10, 1);
  EXPECT_LT(MaxErr(Dec(Enc(v)), v), 1e-6);
  Encoder enc(*ctx_);
  Encryptor se(*ctx_, keygen_->secret_key());
  auto ct = se.Encrypt(*enc.Encode(v, 0x1p40, 1));
  ASSERT_TRUE(ct.ok());
  EXPECT_LT(MaxErr(Dec(*ct), v), 1e-6);
}

TEST_F(Scheme, TwoEncryptionsDiffer) {
  Vec v = Random(1, 2);
  Ciphertext a = Enc(v), b = Enc(v);
  EXPECT_NE(a.data, b.data);  // fresh CSPRNG randomness every time
}

TEST_F(Scheme, NoiseFloodingKeepsResultAndHidesExactValue) {
  Vec v = Random(1, 3);
  Ciphertext ct = Enc(v);
  Decryptor d(*ctx_, keygen_->secret_key());
  Encoder enc(*ctx_);
  auto p1 = d.Decrypt(ct, {.flood_bits = 20});
  auto p2 = d.Decrypt(ct, {.flood_bits = 20});
  ASSERT_TRUE(p1.ok());
  EXPECT_NE(p1->data, p2->data);
  // 2^20 * sqrt(N)-ish flooding at scale 2^40: error ~ 2^20 * 100 / 2^40 ~ 1e-4.
  EXPECT_LT(MaxErr(*enc.Decode(*p1), v), 1e-2);
  EXPECT_FALSE(d.Decrypt(ct, {.flood_bits = 70}).ok());
}

TEST_F(Scheme, AddSubNegateAndPlainScalar) {
  Evaluator ev(*ctx_);
  Encoder enc(*ctx_);
  Vec a = Random(5, 4), b = Random(5, 5);
  Ciphertext ca = Enc(a), cb = Enc(b);
  Vec sum(a.size()), diff(a.size()), neg(a.size()), plus3(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    sum[i] = a[i] + b[i];
    diff[i] = a[i] - b[i];
    neg[i] = -a[i];
    plus3[i] = a[i] + 3.5;
  }
  EXPECT_LT(MaxErr(Dec(*ev.Add(ca, cb)), sum), 1e-6);
  EXPECT_LT(MaxErr(Dec(*ev.Sub(ca, cb)), diff), 1e-6);
  EXPECT_LT(MaxErr(Dec(*ev.Negate(ca)), neg), 1e-6);
  EXPECT_LT(MaxErr(Dec(*ev.AddPlain(ca, *enc.Encode(b, 0x1p40, 2))), sum), 1e-6);
  EXPECT_LT(MaxErr(Dec(*ev.SubPlain(ca, *enc.Encode(b, 0x1p40, 2))), diff), 1e-6);
  EXPECT_LT(MaxErr(Dec(*ev.AddScalar(ca, 3.5)), plus3), 1e-6);
}

TEST_F(Scheme, MultiplyRelinearizeRescaleDepthTwo) {
  Evaluator ev(*ctx_);
  Encoder enc(*ctx_);
  Vec a = Random(2, 6), b = Random(2, 7), c = Random(2, 8);
  Ciphertext ca = Enc(a), cb = Enc(b), cc = Enc(c);
  auto prod = ev.Multiply(ca, cb);
  ASSERT_TRUE(prod.ok());
  EXPECT_EQ(prod->size, 3);
  Vec ab(a.size()), abc(a.size()), sq(a.size()), ab_plain(a.size()), scal(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ab[i] = a[i] * b[i];
    abc[i] = ab[i] * c[i];
    sq[i] = a[i] * a[i];
    scal[i] = a[i] * -1.75;
  }
  EXPECT_LT(MaxErr(Dec(*prod), ab), 1e-5);  // size-3 decryption
  auto relin = ev.Relinearize(*prod, *rk_);
  ASSERT_TRUE(relin.ok());
  EXPECT_EQ(relin->size, 2);
  EXPECT_LT(MaxErr(Dec(*relin), ab), 1e-5);
  auto rs = ev.Rescale(*relin);
  ASSERT_TRUE(rs.ok());
  EXPECT_EQ(rs->level, 1);
  EXPECT_DOUBLE_EQ(rs->scale, 0x1p80 / static_cast<double>((*ctx_)->primes()[2]));
  EXPECT_LT(MaxErr(Dec(*rs), ab), 1e-5);
  // Multiply by c brought to level 1 at the matching scale, then rescale to level 0.
  auto cc1 = ev.ModSwitchTo(cc, 1);
  ASSERT_TRUE(cc1.ok());
  // Scales differ (rs->scale != 2^40): a multiply is still legal; the result tracks exactly.
  auto p2 = ev.Multiply(*rs, *cc1);
  ASSERT_TRUE(p2.ok());
  auto r2 = ev.Rescale(*ev.Relinearize(*p2, *rk_));
  ASSERT_TRUE(r2.ok()) << r2.status();
  EXPECT_EQ(r2->level, 0);
  EXPECT_LT(MaxErr(Dec(*r2), abc), 1e-4);
  EXPECT_EQ(ev.Rescale(*r2).status().code(), StatusCode::kOutOfRange);
  auto s = ev.Rescale(*ev.Relinearize(*ev.Square(ca), *rk_));
  EXPECT_LT(MaxErr(Dec(*s), sq), 1e-5);
  auto mp = ev.Rescale(*ev.MultiplyPlain(ca, *enc.Encode(b, 0x1p40, 2)));
  EXPECT_LT(MaxErr(Dec(*mp), ab), 1e-5);
  auto ms = ev.Rescale(*ev.MultiplyScalar(ca, -1.75, 0x1p40));
  EXPECT_LT(MaxErr(Dec(*ms), scal), 1e-5);
}

TEST_F(Scheme, RotationsEveryKeyedStepBothDirectionsAndConjugate) {
  Evaluator ev(*ctx_);
  Vec v = Random(3, 9);
  Ciphertext ct = Enc(v);
  const int64_t slots = static_cast<int64_t>(v.size());
  for (int64_t step : {1, -1, 5, 100, -4095}) {
    auto r = ev.RotateLeft(ct, step, *gk_);
    ASSERT_TRUE(r.ok()) << r.status();
    Vec want(v.size());
    for (int64_t i = 0; i < slots; ++i) want[i] = v[((i + step) % slots + slots) % slots];
    EXPECT_LT(MaxErr(Dec(*r), want), 1e-5) << "step " << step;
  }
  auto right = ev.RotateRight(ct, 1, *gk_);  // uses the -1 key
  Vec want(v.size());
  for (int64_t i = 0; i < slots; ++i) want[i] = v[(i - 1 + slots) % slots];
  EXPECT_LT(MaxErr(Dec(*right), want), 1e-5);
  // rotate(1) o rotate(-1) is the identity; rotate(-4095) == rotate(1).
  auto back = ev.RotateLeft(*ev.RotateLeft(ct, 1, *gk_), -1, *gk_);
  EXPECT_LT(MaxErr(Dec(*back), v), 1e-5);
  auto conj = ev.Conjugate(ct, *gk_);
  ASSERT_TRUE(conj.ok());
  for (auto& x : want) x = 0;
  for (size_t i = 0; i < v.size(); ++i) want[i] = std::conj(v[i]);
  EXPECT_LT(MaxErr(Dec(*conj), want), 1e-5);
  EXPECT_EQ(ev.RotateLeft(ct, 2, *gk_).status().code(), StatusCode::kNotFound);
  // Rotation at a lower level with the same key.
  auto low = ev.ModSwitchTo(ct, 0);
  auto rl = ev.RotateLeft(*low, 5, *gk_);
  ASSERT_TRUE(rl.ok());
  for (int64_t i = 0; i < slots; ++i) want[i] = v[(i + 5) % slots];
  EXPECT_LT(MaxErr(Dec(*rl), want), 1e-5);
}

TEST_F(Scheme, LegalityErrorsNameTheProblem) {
  Evaluator ev(*ctx_);
  Vec v = Random(1, 10);
  Ciphertext a = Enc(v, 2), b = Enc(v, 1);
  auto s = ev.Add(a, b);
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("level mismatch"), std::string::npos);
  Ciphertext c = Enc(v, 2, 0x1p30);
  EXPECT_NE(ev.Add(a, c).status().message().find("scale mismatch"), std::string::npos);
  auto big = ev.Multiply(*ev.Multiply(a, a), a);  // size 3 x size 2 would give 4
  EXPECT_FALSE(big.ok());
  auto sq = ev.Multiply(a, a);
  EXPECT_EQ(ev.RotateLeft(*sq, 1, *gk_).status().code(), StatusCode::kInvalidArgument);
  // Scale 2^80 at level 0 (60 bits) does not fit.
  auto low = ev.ModSwitchTo(a, 0);
  EXPECT_EQ(ev.Multiply(*low, *low).status().code(), StatusCode::kOutOfRange);
  // Another context (same parameters, different chain) is refused.
  Parameters p;
  p.poly_degree = 8192;
  p.prime_bits = {60, 40, 60};
  auto other = Context::Create(p);
  Evaluator ev2(*other);
  EXPECT_EQ(ev2.Negate(a).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(Scheme, KeySwitchNoiseWithinTheoreticalBound) {
  // Relinearization adds, per coefficient, at most (worst case, infinity norms):
  //   digits * N * q_max * 6 sigma / P   (the digit-key products e_j * [c2]_{D_j}, over P)
  // + (alpha + 2) * N                     (ModDown and conversion rounding times ternary s).
  // Measured on the integer coefficients of decrypt(size 3) - decrypt(relinearized).
  Evaluator ev(*ctx_);
  Vec v = Random(1, 11);
  Ciphertext ct = Enc(v);
  auto prod = *ev.Multiply(ct, ct);
  auto relin = *ev.Relinearize(prod, *rk_);
  Decryptor d(*ctx_, keygen_->secret_key());
  Plaintext a = *d.Decrypt(prod), b = *d.Decrypt(relin);
  const Context& c = **ctx_;
  const size_t n = c.n(), limbs = a.level + 1;
  for (size_t i = 0; i < limbs; ++i) {
    for (size_t k = 0; k < n; ++k)
      a.limb(i)[k] = SubMod(a.limb(i)[k], b.limb(i)[k], c.modulus(i).value);
    c.ntt(i).Inverse(a.limb(i));
  }
  double worst = 0;
  std::vector<uint64_t> res(limbs);
  for (size_t k = 0; k < n; ++k) {
    for (size_t i = 0; i < limbs; ++i) res[i] = a.limb(i)[k];
    worst = std::max(worst, std::fabs(CrtComposeCentered(c, a.level, res)));
  }
  const double digits = 3, sigma = 3.24, alpha = 1;
  const double q_max = static_cast<double>(c.primes()[0]);
  const double p = static_cast<double>(c.primes()[3]);
  const double bound = digits * n * q_max * 6 * sigma / p + (alpha + 2) * n;
  EXPECT_GT(worst, 0.0);
  EXPECT_LT(worst, bound) << "key-switch noise " << worst << " over bound " << bound;
}

}  // namespace
}  // namespace loom::ckks

namespace loom::ckks {
namespace {

// Hybrid key switching with alpha = 2 special primes (two-prime digits, one partial digit),
// at every level: relinearize and rotate agree with the plaintext computation.
TEST(HybridKeySwitch, TwoPrimeDigitsAtEveryLevel) {
  Parameters p;
  p.poly_degree = 2048;
  p.prime_bits = {50, 40, 40, 40, 40, 55, 55};  // 5 data primes -> digits {0,1},{2,3},{4}
  p.special_primes = 2;
  p.insecure_skip_security_check_for_testing_only = true;  // small ring for test speed
  auto c = Context::Create(p);
  ASSERT_TRUE(c.ok()) << c.status();
  ContextPtr ctx = *c;
  KeyGenerator kg(ctx);
  RelinKey rk = kg.CreateRelinKey();
  EXPECT_EQ(rk.key.digits, 3);
  std::vector<int64_t> steps = {3};
  GaloisKeys gk = *kg.CreateGaloisKeys(steps, false);
  Encoder enc(ctx);
  Encryptor e(ctx, kg.CreatePublicKey());
  Decryptor d(ctx, kg.secret_key());
  Evaluator ev(ctx);
  std::mt19937_64 rng(12);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<std::complex<double>> v(ctx->slots());
  for (auto& x : v) x = {u(rng), u(rng)};
  for (int level = 4; level >= 1; --level) {
    auto ct = *e.Encrypt(*enc.Encode(v, 0x1p40, level));
    auto sq = *ev.Rescale(*ev.Relinearize(*ev.Square(ct), rk));
    auto rot = *ev.RotateLeft(sq, 3, gk);
    auto out = *enc.Decode(*d.Decrypt(rot));
    double err = 0;
    for (size_t i = 0; i < v.size(); ++i) {
      auto want = v[(i + 3) % v.size()] * v[(i + 3) % v.size()];
      err = std::max(err, std::abs(out[i] - want));
    }
    EXPECT_LT(err, 1e-5) << "level " << level;
  }
}

}  // namespace
}  // namespace loom::ckks

namespace loom::ckks {
namespace {

// Every rotation step in both directions on a small ring (N = 64, 32 slots).
TEST(Rotations, EveryStepBothDirectionsSmallRing) {
  Parameters p;
  p.poly_degree = 64;
  p.prime_bits = {50, 40, 50};
  p.insecure_skip_security_check_for_testing_only = true;  // tiny ring, test speed only
  auto c = Context::Create(p);
  ASSERT_TRUE(c.ok()) << c.status();
  ContextPtr ctx = *c;
  KeyGenerator kg(ctx);
  std::vector<int64_t> steps;
  for (int64_t s = 1; s < 32; ++s) {
    steps.push_back(s);
    steps.push_back(-s);
  }
  GaloisKeys gk = *kg.CreateGaloisKeys(steps, true);
  EXPECT_EQ(gk.keys.size(), 32u);  // 31 distinct rotations (left s == right 32-s) + conjugation
  Encoder enc(ctx);
  Encryptor e(ctx, kg.CreatePublicKey());
  Decryptor d(ctx, kg.secret_key());
  Evaluator ev(ctx);
  std::vector<std::complex<double>> v(32);
  for (size_t i = 0; i < v.size(); ++i) v[i] = {static_cast<double>(i), -0.5 * static_cast<double>(i)};
  Ciphertext ct = *e.Encrypt(*enc.Encode(v, 0x1p30, 1));
  for (int64_t s = 1; s < 32; ++s) {
    for (int dir : {1, -1}) {
      auto r = dir > 0 ? ev.RotateLeft(ct, s, gk) : ev.RotateRight(ct, s, gk);
      ASSERT_TRUE(r.ok()) << r.status();
      auto out = *enc.Decode(*d.Decrypt(*r));
      for (int64_t i = 0; i < 32; ++i) {
        auto want = v[static_cast<size_t>(((i + dir * s) % 32 + 32) % 32)];
        ASSERT_LT(std::abs(out[i] - want), 1e-4) << "step " << s * dir << " slot " << i;
      }
    }
  }
  // Rotation composes: rotate(a) o rotate(b) == rotate(a + b).
  auto ab = *ev.RotateLeft(*ev.RotateLeft(ct, 5, gk), 9, gk);
  auto direct = *ev.RotateLeft(ct, 14, gk);
  auto x = *enc.Decode(*d.Decrypt(ab)), y = *enc.Decode(*d.Decrypt(direct));
  for (size_t i = 0; i < 32; ++i) EXPECT_LT(std::abs(x[i] - y[i]), 1e-4);
}

}  // namespace
}  // namespace loom::ckks
