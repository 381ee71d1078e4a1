// Certificates on small instances (label slow): Z3, with no symmetry rule, must agree with the
// branch-and-bound wherever the branch-and-bound claims a proof.
#include <gtest/gtest.h>

#include "loom/base/random.h"
#include "loom/base/strings.h"
#include "loom/tessel/placements.h"
#include "loom/tessel/search.h"
#include "loom/tessel/validator.h"
#include "loom/tessel/z3_verify.h"

namespace loom::tessel {
namespace {

TEST(Z3Verify, CertifiesChimeraTenStepsAndRejectsEleven) {
  if (!HaveZ3()) GTEST_SKIP() << "built without Z3";
  PlacementOptions o;
  o.f = o.b = 1;
  auto p = MakePlacement("xshape", o);
  ASSERT_TRUE(p.ok());
  auto v = VerifyWithZ3(*p, 2, 10);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->kind, Z3Verdict::Kind::kOptimal);
  v = VerifyWithZ3(*p, 2, 11);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind, Z3Verdict::Kind::kImprovable);
  EXPECT_LE(v->better_makespan, 10);
}

TEST(Z3Verify, AgreesWithProvenBranchAndBoundOnRandomSmallPlacements) {
  if (!HaveZ3()) GTEST_SKIP() << "built without Z3";
  Prng rng(7);
  int proven = 0;
  for (int trial = 0; trial < 12; ++trial) {
    Placement p;
    p.name = "random";
    p.num_devices = 2 + static_cast<int>(rng.Uniform(2));
    int nb = 3 + static_cast<int>(rng.Uniform(3));
    for (int b = 0; b < nb; ++b) {
      std::vector<int> devs = {static_cast<int>(rng.Uniform(static_cast<uint64_t>(p.num_devices)))};
      if (rng.Uniform(4) == 0) {
        int other = (devs[0] + 1) % p.num_devices;
        devs.push_back(other);
      }
      bool fwd = b < nb / 2 + 1;
      p.AddBlock(StrCat("x", b), fwd ? BlockType::kForward : BlockType::kBackward, devs,
                 1 + static_cast<double>(rng.Uniform(3)), fwd ? 1 : -1);
      if (b > 0 && rng.Uniform(3) != 0) p.AddEdge(static_cast<int>(rng.Uniform(static_cast<uint64_t>(b))), b,
                                                    static_cast<double>(rng.Uniform(2)));
    }
    p.SetCap(3);
    SearchOptions so;
    so.num_micro = 2;
    so.objective = Objective::kMakespan;
    so.bnb_nodes = 200000;
    auto r = Search(p, so);
    if (!r.ok()) continue;  // e.g. a cap below one micro-batch's needs
    ASSERT_TRUE(ValidateSchedule(p, r->schedule).ok());
    auto v = VerifyWithZ3(p, 2, r->makespan, 30000);
    ASSERT_TRUE(v.ok()) << v.status();
    SCOPED_TRACE(::testing::Message() << "trial " << trial << " makespan " << r->makespan);
    if (r->makespan_proven) {
      ++proven;
      EXPECT_EQ(v->kind, Z3Verdict::Kind::kOptimal);
    }
    if (v->kind == Z3Verdict::Kind::kImprovable) {
      EXPECT_FALSE(r->makespan_proven);
    }
  }
  EXPECT_GT(proven, 6);
}

}  // namespace
}  // namespace loom::tessel
