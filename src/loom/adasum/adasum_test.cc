// Adasum against the sequential double tree (reference.h) with Horovod's criterion: relative L2
// error / 100 < eps(dtype). Cases from Horovod's tests: random, orthogonal (sum), collinear
// with different magnitudes (mean), values at the smallest normal, magnitudes up to sqrt(max)
// over shuffled ranks; sizes 20p-17, 2p+1, p+2, 2^19 for p in 2, 4, 8, 16; f32, f16 (and f64,
// bf16). Also: the operator's algebra, per-tensor coefficients in a fused list, identical
// results on every rank, non-power-of-two policy, DeltaSync.
#include "loom/adasum/adasum.h"

#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>

#include <gtest/gtest.h>

#include "loom/adasum/delta_sync.h"
#include "loom/adasum/internal/kernels.h"
#include "loom/adasum/reference.h"
#include "loom/adasum/test_util.h"
#include "loom/base/random.h"
#include "loom/base/strings.h"
#include "loom/comm/thread/thread_transport.h"

namespace loom::adasum {
namespace {

using comm::Communicator;
using comm::DataType;
using test_util::Decode;
using test_util::Encode;
using test_util::Eps;
using test_util::Gaussian;
using test_util::Gen;
using test_util::RelError;
using test_util::Vec;

// Runs Adasum on p thread ranks over `tensors` tensors; checks every rank against the tree
// (built from the dtype-rounded inputs) and that all ranks agree bitwise. Returns the worst
// relative error.
// With `contiguous`, the tensors lie back to back in one buffer (the in-place path) instead of
// in separate vectors (the fusion-copy path); `results_out` receives rank 0's tensors.
double RunAndCheck(int p, int tensors, DataType t, const Gen& gen, bool fold = false,
                   bool contiguous = false,
                   std::vector<std::vector<std::byte>>* results_out = nullptr,
                   AdasumReducer::Exchange exchange = AdasumReducer::Exchange::kInPlace) {
  std::vector<std::vector<std::vector<std::byte>>> results(static_cast<size_t>(p));
  Status s = comm::thread::RunRanks(p, [&](Communicator& c) -> Status {
    std::vector<std::vector<std::byte>> data;
    std::vector<TensorView> views;
    for (int k = 0; k < tensors; ++k) data.push_back(Encode(t, gen(c.rank(), k)));
    const size_t es = comm::DataTypeSize(t);
    std::vector<std::byte> whole;
    if (contiguous) {
      for (auto& d : data) whole.insert(whole.end(), d.begin(), d.end());
      size_t off = 0;
      for (auto& d : data) {
        views.push_back({whole.data() + off, d.size() / es});
        off += d.size();
      }
    } else {
      for (auto& d : data) views.push_back({d.data(), d.size() / es});
    }
    LOOM_ASSIGN_OR_RETURN(auto reducer, AdasumReducer::Create(c, fold));
    reducer->set_exchange(exchange);
    LOOM_RETURN_IF_ERROR(reducer->Allreduce(views, t));
    if (contiguous) {
      size_t off = 0;
      for (auto& d : data) {
        std::memcpy(d.data(), whole.data() + off, d.size());
        off += d.size();
      }
    }
    results[static_cast<size_t>(c.rank())] = std::move(data);
    return OkStatus();
  });
  if (results_out != nullptr) *results_out = results[0];
  EXPECT_TRUE(s.ok()) << s;
  if (!s.ok()) return 1e9;
  double worst = 0;
  for (int k = 0; k < tensors; ++k) {
    std::vector<Vec> inputs;
    for (int r = 0; r < p; ++r) inputs.push_back(Decode(t, Encode(t, gen(r, k))));
    Vec want = TreeReference(inputs);
    for (int r = 0; r < p; ++r)
      EXPECT_EQ(results[static_cast<size_t>(r)][static_cast<size_t>(k)], results[0][static_cast<size_t>(k)])
          << "rank " << r << " differs from rank 0 in tensor " << k;
    worst = std::max(worst, RelError(want, Decode(t, results[0][static_cast<size_t>(k)])));
  }
  return worst;
}

constexpr int kPowers[] = {2, 4, 8, 16};

TEST(Adasum, RandomTensorsMeetHorovodsCriterion) {
  for (DataType t : {DataType::kF32, DataType::kF16, DataType::kF64, DataType::kBF16})
    for (int p : kPowers)
      for (size_t n : {size_t(20 * p - 17), size_t(2 * p + 1), size_t(p + 2)}) {
        double err = RunAndCheck(p, 2, t, Gaussian(n, 7));
        EXPECT_LT(err / 100, Eps(t)) << comm::DataTypeName(t) << " p=" << p << " n=" << n;
      }
}

TEST(Adasum, LargeTensorsMeetHorovodsCriterion) {
  const size_t n = size_t{1} << 19;
  for (int p : kPowers)
    for (DataType t : {DataType::kF32, DataType::kF16}) {
      if (t == DataType::kF16 && p > 4) continue;  // f16 at 2^19 on 2 and 4 ranks keeps it quick
      double err = RunAndCheck(p, 1, t, Gaussian(n, 11));
      EXPECT_LT(err / 100, Eps(t)) << comm::DataTypeName(t) << " p=" << p;
    }
}

// Horovod's orthogonal case: columns of Q from a QR of a Gaussian matrix; rank r gives column r.
TEST(Adasum, OrthogonalVectorsGiveTheSum) {
  for (int p : kPowers) {
    const size_t n = static_cast<size_t>(20 * p - 17);
    std::vector<Vec> q;
    Prng rng(5);
    for (int r = 0; r < p; ++r) {  // Gram-Schmidt, twice for accuracy
      Vec v(n);
      for (double& x : v) x = rng.Normal();
      for (int pass = 0; pass < 2; ++pass)
        for (const Vec& u : q) {
          double d = 0;
          for (size_t i = 0; i < n; ++i) d += u[i] * v[i];
          for (size_t i = 0; i < n; ++i) v[i] -= d * u[i];
        }
      double norm = 0;
      for (double x : v) norm += x * x;
      for (double& x : v) x /= std::sqrt(norm);
      q.push_back(v);
    }
    Gen gen = [&](int rank, int) { return q[static_cast<size_t>(rank)]; };
    for (DataType t : {DataType::kF32, DataType::kF16}) {
      EXPECT_LT(RunAndCheck(p, 1, t, gen) / 100, Eps(t));
      Vec sum(n, 0.0);
      for (const Vec& v : q)
        for (size_t i = 0; i < n; ++i) sum[i] += v[i];
      EXPECT_LT(RelError(sum, TreeReference(q)), 1e-12) << "the tree of orthogonal vectors is their sum";
    }
  }
}

TEST(Adasum, CollinearVectorsOfDifferentMagnitudesGiveTheMean) {
  for (int p : kPowers) {
    Vec v = Gaussian(static_cast<size_t>(2 * p + 1), 3)(0, 0);
    Gen gen = [&](int rank, int) {
      Vec s = v;
      for (double& x : s) x *= rank + 1;
      return s;
    };
    for (DataType t : {DataType::kF32, DataType::kF16}) EXPECT_LT(RunAndCheck(p, 1, t, gen) / 100, Eps(t));
    std::vector<Vec> inputs;
    for (int r = 0; r < p; ++r) inputs.push_back(gen(r, 0));
    Vec mean = v;
    for (double& x : mean) x *= (p + 1) / 2.0;
    EXPECT_LT(RelError(mean, TreeReference(inputs)), 1e-12);
  }
}

// Values at the smallest normal: their squares underflow in float, so dots must be double.
TEST(Adasum, StableAtTheSmallestNormal) {
  for (int p : kPowers)
    for (DataType t : {DataType::kF32, DataType::kF16}) {
      double tiny = t == DataType::kF32 ? FLT_MIN : std::ldexp(1.0, -14);
      Gen gen = [&](int rank, int k) {
        Vec v = Gaussian(static_cast<size_t>(p + 2), 13)(rank, k);
        for (double& x : v) x = tiny * (1 + std::abs(x));
        return v;
      };
      EXPECT_LT(RunAndCheck(p, 1, t, gen) / 100, Eps(t)) << comm::DataTypeName(t) << " p=" << p;
    }
}

// Magnitudes spread geometrically up to sqrt(max) over shuffled ranks.
TEST(Adasum, StableForMagnitudesUpToSqrtMax) {
  for (int p : kPowers)
    for (DataType t : {DataType::kF32, DataType::kF16}) {
      double top = std::sqrt(t == DataType::kF32 ? double{FLT_MAX} : 65504.0);
      std::vector<int> order(static_cast<size_t>(p));
      for (int r = 0; r < p; ++r) order[static_cast<size_t>(r)] = r;
      Prng rng(17);
      for (int r = p - 1; r > 0; --r) std::swap(order[static_cast<size_t>(r)], order[rng.Uniform(static_cast<uint64_t>(r + 1))]);
      Gen gen = [&](int rank, int k) {
        Vec v = Gaussian(static_cast<size_t>(20 * p - 17), 19)(rank, k);
        double scale = std::pow(top, static_cast<double>(order[static_cast<size_t>(rank)] + 1) / p);
        for (double& x : v) x = std::clamp(x, -1.0, 1.0) * scale;
        return v;
      };
      EXPECT_LT(RunAndCheck(p, 1, t, gen) / 100, Eps(t)) << comm::DataTypeName(t) << " p=" << p;
    }
}

TEST(Adasum, ZeroOperandPassesTheOtherThrough) {
  Vec g = Gaussian(9, 1)(0, 0);
  Gen gen = [&](int rank, int) { return rank == 1 ? Vec(9, 0.0) : g; };
  EXPECT_EQ(RunAndCheck(2, 1, DataType::kF64, gen), 0.0);
  EXPECT_EQ(PairReference(g, Vec(9, 0.0)), g);
}

TEST(Adasum, OperatorAlgebra) {
  Vec a = Gaussian(33, 2)(0, 0), b = Gaussian(33, 2)(1, 0), c = Gaussian(33, 2)(2, 0);
  auto near = [](const Vec& x, const Vec& y) { return RelError(x, y) < 1e-12; };
  EXPECT_TRUE(near(PairReference(a, b), PairReference(b, a))) << "symmetric";
  Vec a3 = a, b3 = b;
  for (double& x : a3) x *= 3;
  for (double& x : b3) x *= 3;
  Vec ab = PairReference(a, b);
  for (double& x : ab) x *= 3;
  EXPECT_TRUE(near(PairReference(a3, b3), ab)) << "positively homogeneous";
  Vec neg = a;
  for (double& x : neg) x = -x;
  for (double x : PairReference(a, neg)) EXPECT_NEAR(x, 0.0, 1e-12) << "Adasum(g, -g) = 0";
  Vec left = PairReference(PairReference(a, b), c), right = PairReference(a, PairReference(b, c));
  EXPECT_GT(RelError(left, right), 1e-6) << "not associative: the tree is part of the spec";
  // The in-place operator agrees with the reference.
  std::vector<std::byte> x = Encode(DataType::kF64, a), y = Encode(DataType::kF64, b);
  ASSERT_TRUE(AdasumPair(DataType::kF64, x.data(), y.data(), a.size()).ok());
  EXPECT_TRUE(near(Decode(DataType::kF64, x), PairReference(a, b)));
}

// The weight-space tree (what the bench checks large outputs with) is the vector tree: random,
// collinear, orthogonal and zero inputs, power-of-two and folded rank counts.
TEST(Adasum, TreeWeightsGiveTheTreeReference) {
  for (int p = 1; p <= 9; ++p) {
    for (int kind = 0; kind < 4; ++kind) {
      std::vector<Vec> x;
      for (int q = 0; q < p; ++q) {
        Vec v = Gaussian(41, 7)(q, 0);
        if (kind == 1) {  // collinear, magnitudes 1..p
          v = Gaussian(41, 7)(0, 0);
          for (double& e : v) e *= q + 1;
        } else if (kind == 2) {  // orthogonal
          v.assign(41, 0.0);
          v[static_cast<size_t>(q)] = q + 0.5;
        } else if (kind == 3 && q % 2 == 1) {  // zero operands: the guard
          v.assign(41, 0.0);
        }
        x.push_back(v);
      }
      std::vector<Vec> gram(static_cast<size_t>(p), Vec(static_cast<size_t>(p)));
      for (size_t i = 0; i < x.size(); ++i)
        for (size_t j = 0; j < x.size(); ++j)
          for (size_t k = 0; k < 41; ++k) gram[i][j] += x[i][k] * x[j][k];
      Vec w = TreeWeights(gram);
      ASSERT_EQ(w.size(), static_cast<size_t>(p));
      Vec got(41, 0.0);
      for (size_t q = 0; q < x.size(); ++q)
        for (size_t k = 0; k < 41; ++k) got[k] += w[q] * x[q][k];
      EXPECT_LT(RelError(TreeReference(x), got), 1e-12) << "p=" << p << " kind=" << kind;
    }
  }
  EXPECT_TRUE(TreeWeights({}).empty());
}

// Coefficients are per tensor: tensor 0 is collinear across ranks (mean), tensor 1 orthogonal
// (sum). One coefficient over the fused buffer would give neither.
TEST(Adasum, FusedListUsesPerTensorCoefficients) {
  Gen gen = [](int rank, int k) {
    Vec v(6, 0.0);
    if (k == 0) for (size_t i = 0; i < 6; ++i) v[i] = (rank + 1) * (1.0 + static_cast<double>(i));
    else v[static_cast<size_t>(rank)] = 5.0 + rank;
    return v;
  };
  EXPECT_LT(RunAndCheck(4, 2, DataType::kF32, gen) / 100, FLT_EPSILON);
  // Tensor 0's answer is the mean, tensor 1's the sum.
  std::vector<Vec> t0, t1;
  for (int r = 0; r < 4; ++r) {
    t0.push_back(gen(r, 0));
    t1.push_back(gen(r, 1));
  }
  EXPECT_NEAR(TreeReference(t0)[0], 2.5, 1e-12);
  EXPECT_NEAR(TreeReference(t1)[3], 8.0, 1e-12);
  // ...and the fused-buffer tree differs.
  std::vector<Vec> fused;
  for (int r = 0; r < 4; ++r) {
    Vec f = t0[static_cast<size_t>(r)];
    f.insert(f.end(), t1[static_cast<size_t>(r)].begin(), t1[static_cast<size_t>(r)].end());
    fused.push_back(f);
  }
  EXPECT_GT(std::abs(TreeReference(fused)[0] - 2.5), 1e-3);
}

TEST(Adasum, ThousandSmallTensorsCutByHalvingBoundaries) {
  Gen gen = [](int rank, int k) {
    return Gaussian(static_cast<size_t>(1 + k % 7), 23)(rank, k);
  };
  EXPECT_LT(RunAndCheck(8, 1000, DataType::kF32, gen) / 100, FLT_EPSILON);
}

TEST(Adasum, TensorsAlreadyBackToBackAreReducedInPlaceWithTheSameResult) {
  Gen gen = [](int rank, int k) { return Gaussian(static_cast<size_t>(3 + k % 11), 41)(rank, k); };
  for (int p : {2, 8}) {
    for (DataType t : {DataType::kF32, DataType::kF16}) {
      std::vector<std::vector<std::byte>> copied, in_place;
      double e1 = RunAndCheck(p, 50, t, gen, false, false, &copied);
      double e2 = RunAndCheck(p, 50, t, gen, false, true, &in_place);
      EXPECT_LT(e2 / 100, Eps(t));
      EXPECT_EQ(e1, e2);
      EXPECT_EQ(copied, in_place) << "p=" << p << " " << comm::DataTypeName(t);
    }
  }
  // Folded ranks too (the in-place buffer is also what the extra ranks send and receive).
  std::vector<std::vector<std::byte>> copied, in_place;
  RunAndCheck(6, 20, DataType::kF32, gen, true, false, &copied);
  EXPECT_LT(RunAndCheck(6, 20, DataType::kF32, gen, true, true, &in_place) / 100, FLT_EPSILON);
  EXPECT_EQ(copied, in_place);
}

// The three exchanges against the copy-then-dot-pass path (the oracle): reading the partner's
// half in place (threads: no copy) and dots on each landed piece must give bitwise the same
// result (every exchange adds its double partials on the same piece grid). All meet Horovod's
// criterion against the tree. One tensor over several 128 KiB pieces and 24 fused tensors cut by
// piece boundaries; f32 and f16; 2 and 8 ranks.
TEST(Adasum, ExchangesMatchTheCopyThenDotPassPath) {
  using X = AdasumReducer::Exchange;
  const Gen big = Gaussian((size_t{1} << 18) + 3, 53);
  const Gen many = [](int rank, int k) {
    return Gaussian(static_cast<size_t>(10007 + 131 * k), 59)(rank, k);
  };
  for (int p : {2, 8})
    for (DataType t : {DataType::kF32, DataType::kF16})
      for (bool fused : {false, true}) {
        const int tensors = fused ? 24 : 1;
        const Gen& gen = fused ? many : big;
        std::vector<std::vector<std::byte>> copy, in_place, on_arrival;
        EXPECT_LT(RunAndCheck(p, tensors, t, gen, false, fused, &copy, X::kCopy) / 100, Eps(t));
        EXPECT_LT(RunAndCheck(p, tensors, t, gen, false, fused, &in_place, X::kInPlace) / 100, Eps(t));
        EXPECT_LT(RunAndCheck(p, tensors, t, gen, false, fused, &on_arrival, X::kOnArrival) / 100, Eps(t));
        EXPECT_EQ(in_place, copy) << "p=" << p << " " << comm::DataTypeName(t);
        EXPECT_EQ(on_arrival, copy) << "p=" << p << " " << comm::DataTypeName(t);
      }
}

// A rank that exits mid-allreduce: the others return Unavailable (or the failure of a peer
// that saw it), for each exchange; nobody hangs or reads a released buffer (asan runs this).
TEST(Adasum, ExitedRankSurfacesAsAnErrorForEveryExchange) {
  using X = AdasumReducer::Exchange;
  for (X x : {X::kInPlace, X::kOnArrival, X::kCopy}) {
    auto st = comm::thread::RunRanksEach(4, [&](Communicator& c) -> Status {
      LOOM_ASSIGN_OR_RETURN(auto red, AdasumReducer::Create(c));
      red->set_exchange(x);
      if (c.rank() == 3) return OkStatus();  // exits instead of reducing
      std::vector<float> v(size_t{1} << 16, static_cast<float>(c.rank() + 1));
      TensorView view{v.data(), v.size()};
      return red->Allreduce({&view, 1}, DataType::kF32);
    }, {.timeout_ms = 20000});
    int unavailable = 0;
    for (int r = 0; r < 3; ++r) {
      EXPECT_FALSE(st[static_cast<size_t>(r)].ok()) << "rank " << r;
      unavailable += st[static_cast<size_t>(r)].code() == StatusCode::kUnavailable;
    }
    EXPECT_GE(unavailable, 1);
  }
}

TEST(Adasum, PortableKernelsMeetHorovodsCriterionToo) {
  // The CPU-dispatched kernels run in every other test; force the portable build here.
  ASSERT_TRUE(internal::SetKernelBuild(internal::KernelBuild::kPortable));
  for (DataType t : {DataType::kF32, DataType::kF16, DataType::kF64, DataType::kBF16})
    for (int p : {2, 8})
      EXPECT_LT(RunAndCheck(p, 3, t, Gaussian(static_cast<size_t>(20 * p - 17), 43)) / 100, Eps(t))
          << comm::DataTypeName(t) << " p=" << p;
  internal::SetKernelBuild(internal::CpuHasAvx2() ? internal::KernelBuild::kAvx2
                                                  : internal::KernelBuild::kPortable);
}

TEST(Adasum, NonPowerOfTwoIsRefusedOrFoldedAsDocumented) {
  Status s = comm::thread::RunRanks(3, [](Communicator& c) -> Status {
    float x[4] = {1, 2, 3, 4};
    TensorView v{x, 4};
    Status r = AdasumAllreduce(c, {&v, 1});
    if (r.code() != StatusCode::kInvalidArgument || r.message().find("not a power of two") == std::string::npos)
      return InternalError("non-power-of-two accepted: " + r.ToString());
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  for (int p : {3, 5, 6, 7})
    EXPECT_LT(RunAndCheck(p, 3, DataType::kF32, Gaussian(static_cast<size_t>(2 * p + 1), 29), true) / 100,
              FLT_EPSILON) << "p=" << p;
}

TEST(Adasum, OneRankIsTheIdentityAndBadTypesAreRefused) {
  EXPECT_EQ(RunAndCheck(1, 2, DataType::kF32, Gaussian(5, 31)), 0.0);
  Status s = comm::thread::RunRanks(2, [](Communicator& c) -> Status {
    int32_t x[2] = {1, 2};
    TensorView v{x, 2};
    Status r = AdasumAllreduce(c, {&v, 1}, {.dtype = DataType::kI32});
    return r.code() == StatusCode::kInvalidArgument ? OkStatus() : InternalError("i32 accepted");
  });
  EXPECT_TRUE(s.ok()) << s;
}

TEST(Adasum, SumOverTheSameScheduleIsTheSum) {
  for (bool in_place : {false, true}) {
    Status s = comm::thread::RunRanks(8, [&](Communicator& c) -> Status {
      LOOM_ASSIGN_OR_RETURN(auto red, AdasumReducer::Create(c));
      red->set_sum_in_place(in_place);
      std::vector<float> a(37), b(5);
      for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<float>(c.rank() + static_cast<int>(i));
      for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<float>(c.rank() * 2);
      TensorView v[2] = {{a.data(), a.size()}, {b.data(), b.size()}};
      LOOM_RETURN_IF_ERROR(red->SumAllreduce(v, DataType::kF32));
      for (size_t i = 0; i < a.size(); ++i)
        if (a[i] != static_cast<float>(28 + 8 * static_cast<int>(i))) return InternalError("sum");
      for (float x : b) if (x != 56.0f) return InternalError("sum");
      return OkStatus();
    });
    EXPECT_TRUE(s.ok()) << s << " in_place=" << in_place;
  }
}

// A toy optimizer: params -= lr · (params - target).
void Step(std::vector<float>& w, float target, float lr) {
  for (float& x : w) x -= lr * (x - target);
}

TEST(DeltaSync, IdenticalDataOnEveryRankFollowsTheSingleRankTrajectory) {
  std::vector<float> single(10, 0.0f);
  for (int s = 0; s < 6; ++s) Step(single, 3.0f, 0.25f);
  for (int p : {1, 4}) {
    for (int local : {1, 3}) {
      Status st = comm::thread::RunRanks(p, [&](Communicator& c) -> Status {
        std::vector<float> w(10, 0.0f);
        LOOM_ASSIGN_OR_RETURN(auto ds, DeltaSync::Create(c, {{w.data(), w.size()}}, DataType::kF32, local));
        int synced = 0;
        for (int s = 0; s < 6; ++s) {
          Step(w, 3.0f, 0.25f);
          LOOM_ASSIGN_OR_RETURN(bool did, ds->AfterStep());
          synced += did;
        }
        if (synced != 6 / local) return InternalError("wrong number of syncs");
        for (size_t i = 0; i < w.size(); ++i)
          if (std::abs(w[i] - single[i]) > 1e-5f) return InternalError(StrCat("diverged: ", w[i], " vs ", single[i]));
        return OkStatus();
      });
      EXPECT_TRUE(st.ok()) << st << " p=" << p << " local=" << local;
    }
  }
}

}  // namespace
}  // namespace loom::adasum
