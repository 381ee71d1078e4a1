// The two HISA backends agree: on random programs both accept/refuse the same instructions
// with the same status code, and the decrypted CKKS results match the exact double
// reference within the CKKS error bound (scale 2^30, N = 8192: per-op error ~1e-6..1e-5).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "loom/fhe/hisa/hisa.h"

namespace loom::hisa {
namespace {

ckks::ContextPtr Ctx() {
  static ckks::ContextPtr ctx = [] {
    ckks::Parameters p;
    p.poly_degree = 8192;
    p.prime_bits = {48, 30, 30, 30, 30, 50};  // 218 bits: the 128-bit limit exactly
    auto c = ckks::Context::Create(p);
    LOOM_CHECK_OK(c.status());
    return *c;
  }();
  return ctx;
}

BackendOptions Options() {
  BackendOptions o;
  o.vec_size = 64;
  o.rotation_steps = {1, -1, 7};
  return o;
}

TEST(Hisa, LegalityChecksAreSharedAndNamed) {
  auto ckks_or = MakeCkksBackend(Ctx(), Options());
  ASSERT_TRUE(ckks_or.ok());
  std::unique_ptr<Backend> backends[2] = {std::move(*ckks_or), MakePlainBackend(Ctx(), Options())};
  for (auto& b : backends) {
    std::vector<double> v(64, 0.5);
    Cipher x = *b->Encrypt(*b->Encode(v, 0x1p30, 4));
    Cipher y = *b->Encrypt(*b->Encode(v, 0x1p30, 3));
    EXPECT_EQ(b->Add(x, y).status().code(), StatusCode::kInvalidArgument) << b->name();
    Cipher z = *b->Encrypt(*b->Encode(v, 0x1p31, 4));
    EXPECT_NE(b->Add(x, z).status().message().find("scale mismatch"), std::string::npos);
    EXPECT_EQ(b->RotLeft(x, 2).status().code(), StatusCode::kNotFound);
    Cipher sq = *b->Mul(x, x);
    EXPECT_EQ(b->RotLeft(sq, 1).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(b->Mul(sq, x).status().code(), StatusCode::kInvalidArgument);
    double d = *b->MaxRescale(sq, 0x1p31);
    EXPECT_EQ(d, static_cast<double>(Ctx()->primes()[4]));
    EXPECT_EQ(*b->MaxRescale(sq, 0x1p29), 1.0);
    EXPECT_EQ(b->Rescale(sq, 12345.0).status().code(), StatusCode::kInvalidArgument);
    Cipher low = *b->ModSwitchTo(x, 0);
    EXPECT_EQ(b->Rescale(low, 0x1p30).status().code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(b->Mul(low, low).status().code(), StatusCode::kOutOfRange);  // 2^60 > 48 bits
    ASSERT_TRUE(b->Free(x).ok());
    EXPECT_EQ(b->Negate(x).status().code(), StatusCode::kNotFound);
  }
}

TEST(Hisa, RandomProgramsAgreeWithinCkksErrorBound) {
  std::mt19937_64 rng(2024);
  auto ckks_or = MakeCkksBackend(Ctx(), Options());
  ASSERT_TRUE(ckks_or.ok());
  auto& enc = *ckks_or;
  auto ref = MakePlainBackend(Ctx(), Options());
  std::uniform_real_distribution<double> u(-1, 1);
  int legal = 0, illegal = 0;
  for (int program = 0; program < 3; ++program) {
    std::vector<std::pair<Cipher, Cipher>> pool;  // (ckks handle, reference handle)
    for (int i = 0; i < 3; ++i) {
      std::vector<double> v(64);
      for (auto& x : v) x = u(rng);
      Cipher a = *enc->Encrypt(*enc->Encode(v, 0x1p30, 4));
      Cipher b = *ref->Encrypt(*ref->Encode(v, 0x1p30, 4));
      pool.emplace_back(a, b);
    }
    for (int step = 0; step < 14; ++step) {
      const auto pa = pool[rng() % pool.size()], pb = pool[rng() % pool.size()];
      int op = static_cast<int>(rng() % 10);
      auto run = [&](Backend& be, bool is_ref) -> StatusOr<Cipher> {
        Cipher a = is_ref ? pa.second : pa.first, b = is_ref ? pb.second : pb.first;
        switch (op) {
          case 0: return be.Add(a, b);
          case 1: return be.Sub(a, b);
          case 2: return be.Negate(a);
          case 3: {
            LOOM_ASSIGN_OR_RETURN(Cipher m, be.Mul(a, b));
            LOOM_ASSIGN_OR_RETURN(Cipher r, be.Relinearize(m));
            LOOM_ASSIGN_OR_RETURN(double d, be.MaxRescale(r, 0x1p31));
            return be.Rescale(r, d);
          }
          case 4: {
            LOOM_ASSIGN_OR_RETURN(Meta m, be.MetaOf(a));
            std::vector<double> w(64);
            for (size_t i = 0; i < w.size(); ++i) w[i] = std::sin(static_cast<double>(i + step));
            LOOM_ASSIGN_OR_RETURN(Plain p, be.Encode(w, 0x1p30, m.level));
            LOOM_ASSIGN_OR_RETURN(Cipher r, be.Mul(a, p));
            return be.Rescale(r, static_cast<double>(be.context()->primes()[m.level]));
          }
          case 5: {
            LOOM_ASSIGN_OR_RETURN(Cipher r, be.Mul(a, -0.75, 0x1p30));
            LOOM_ASSIGN_OR_RETURN(double d, be.MaxRescale(r, 0x1p31));
            return be.Rescale(r, d);
          }
          case 6: return be.Add(a, 0.25);
          case 7: return be.RotLeft(a, 1);
          case 8: return be.RotRight(a, 7);
          default: {
            LOOM_ASSIGN_OR_RETURN(Meta m, be.MetaOf(a));
            return be.ModSwitchTo(a, std::max(0, m.level - 1));
          }
        }
      };
      auto x = run(*enc, false);
      auto y = run(*ref, true);
      ASSERT_EQ(x.ok(), y.ok()) << "op " << op << ": " << x.status() << " vs " << y.status();
      if (!x.ok()) {
        ASSERT_EQ(x.status().code(), y.status().code());
        ++illegal;
        continue;
      }
      auto mx = *enc->MetaOf(*x), my = *ref->MetaOf(*y);
      EXPECT_EQ(mx.level, my.level);
      EXPECT_EQ(mx.scale, my.scale);
      auto vr = *ref->Decode(*ref->Decrypt(*y));
      double mag = 0;
      for (double v : vr) mag = std::max(mag, std::fabs(v));
      if (mag < 8) pool.emplace_back(*x, *y);  // keep magnitudes bounded
      ++legal;
    }
    for (auto [c, r] : pool) {
      auto ve = *enc->Decode(*enc->Decrypt(c));
      auto vr = *ref->Decode(*ref->Decrypt(r));
      ASSERT_EQ(ve.size(), 64u);
      double err = 0;
      for (size_t i = 0; i < ve.size(); ++i) err = std::max(err, std::fabs(ve[i] - vr[i]));
      EXPECT_LT(err, 1e-3) << "cipher " << c.id << " level " << enc->MetaOf(c)->level;
    }
  }
  EXPECT_GT(legal, 20);
  EXPECT_GT(illegal, 0);
}

}  // namespace
}  // namespace loom::hisa
