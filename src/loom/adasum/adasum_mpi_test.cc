// Adasum over the MPI backend under `mpirun -np 4`: Horovod's criterion against the double
// tree, several tensors, f32 and f16, and bitwise agreement across ranks (gathered to rank 0).
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include <gtest/gtest.h>

#include "loom/adasum/adasum.h"
#include "loom/adasum/hierarchical.h"
#include "loom/adasum/reference.h"
#include "loom/base/random.h"
#include "loom/comm/mpi/mpi_transport.h"

namespace loom::adasum {
namespace {

class MpiEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { LOOM_CHECK_OK(comm::mpi::InitMpi()); }
  void TearDown() override { comm::mpi::FinalizeMpi(); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new MpiEnvironment);

std::vector<double> Values(int rank, int tensor, size_t n) {
  Prng rng(77 + static_cast<uint64_t>(rank) * 1000 + static_cast<uint64_t>(tensor));
  std::vector<double> v(n);
  for (double& x : v) x = rng.Normal() * (1 + rank);
  return v;
}

// Rank `rank`'s tensors of `sizes`, as f32, and views of them.
std::vector<std::vector<float>> F32Values(int rank, const std::vector<size_t>& sizes) {
  std::vector<std::vector<float>> data(sizes.size());
  for (size_t k = 0; k < sizes.size(); ++k)
    for (double v : Values(rank, static_cast<int>(k), sizes[k]))
      data[k].push_back(static_cast<float>(v));
  return data;
}
std::vector<TensorView> Views(std::vector<std::vector<float>>& data) {
  std::vector<TensorView> views;
  for (auto& d : data) views.push_back({d.data(), d.size()});
  return views;
}

// MPI_COMM_WORLD with a 20 s timeout, or nullptr where the rank count is not a power of two.
std::unique_ptr<comm::Communicator> PowerOfTwoWorld() {
  auto t = comm::mpi::WorldTransport();
  LOOM_CHECK_OK(t.status());
  auto c = std::make_unique<comm::Communicator>(std::move(*t));
  c->set_timeout_ms(20000);
  const int p = c->size();
  if ((p & (p - 1)) != 0) return nullptr;
  return c;
}

TEST(AdasumMpi, MatchesTheTreeOnEveryRank) {
  std::unique_ptr<comm::Communicator> world = PowerOfTwoWorld();
  if (!world) GTEST_SKIP() << "needs a power-of-two rank count";
  comm::Communicator& c = *world;
  const int p = c.size();
  const std::vector<size_t> sizes = {size_t(20 * p - 17), size_t(2 * p + 1), size_t(p + 2), size_t{1} << 16};
  for (comm::DataType dt : {comm::DataType::kF32, comm::DataType::kF16}) {
    std::vector<std::vector<float>> f32(sizes.size());
    std::vector<std::vector<uint16_t>> f16(sizes.size());
    std::vector<TensorView> views;
    for (size_t k = 0; k < sizes.size(); ++k) {
      auto v = Values(c.rank(), static_cast<int>(k), sizes[k]);
      for (double x : v) {
        f32[k].push_back(static_cast<float>(x));
        f16[k].push_back(comm::FloatToHalf(static_cast<float>(x)));
      }
      views.push_back(dt == comm::DataType::kF32 ? TensorView{f32[k].data(), sizes[k]}
                                                 : TensorView{f16[k].data(), sizes[k]});
    }
    ASSERT_TRUE(AdasumAllreduce(c, views, {.dtype = dt}).ok());
    const double eps = dt == comm::DataType::kF32 ? FLT_EPSILON : std::ldexp(1.0, -10);
    for (size_t k = 0; k < sizes.size(); ++k) {
      std::vector<std::vector<double>> inputs;
      for (int r = 0; r < p; ++r) {
        auto v = Values(r, static_cast<int>(k), sizes[k]);
        for (double& x : v)
          x = dt == comm::DataType::kF32 ? static_cast<float>(x)
                                         : comm::HalfToFloat(comm::FloatToHalf(static_cast<float>(x)));
        inputs.push_back(v);
      }
      std::vector<double> want = TreeReference(inputs);
      double num = 0, den = 0;
      for (size_t i = 0; i < want.size(); ++i) {
        double got = dt == comm::DataType::kF32 ? f32[k][i] : comm::HalfToFloat(f16[k][i]);
        num += (want[i] - got) * (want[i] - got);
        den += want[i] * want[i];
      }
      EXPECT_LT(std::sqrt(num / den) / 100, eps) << "tensor " << k;
      // Every rank holds the same bits: compare with rank 0's copy.
      size_t bytes = sizes[k] * comm::DataTypeSize(dt);
      std::vector<std::byte> mine(static_cast<std::byte*>(views[k].data),
                                  static_cast<std::byte*>(views[k].data) + bytes), root = mine;
      ASSERT_TRUE(c.Broadcast(root.data(), sizes[k], dt, 0).ok());
      EXPECT_EQ(mine, root) << "rank " << c.rank() << " differs from rank 0 in tensor " << k;
    }
  }
}

// Every exchange over MPI on halves of several 128 KiB pieces meets the criterion and gives the
// same bits on every rank and for every exchange (one piece grid for the dots).
TEST(AdasumMpi, EveryExchangeMeetsTheCriterionAndGivesTheSameBits) {
  std::unique_ptr<comm::Communicator> world = PowerOfTwoWorld();
  if (!world) GTEST_SKIP() << "needs a power-of-two rank count";
  comm::Communicator& c = *world;
  const int p = c.size();
  // Two tensors, 3.2 MB in all, cut by piece and halving boundaries.
  const std::vector<size_t> sizes = {300005, 500003};
  std::vector<std::vector<double>> want(sizes.size());
  for (size_t k = 0; k < sizes.size(); ++k) {
    std::vector<std::vector<double>> inputs;
    for (int r = 0; r < p; ++r) {
      auto v = Values(r, static_cast<int>(k), sizes[k]);
      for (double& y : v) y = static_cast<float>(y);
      inputs.push_back(v);
    }
    want[k] = TreeReference(inputs);
  }
  using X = AdasumReducer::Exchange;
  for (X x : {X::kInPlace, X::kOnArrival, X::kCopy}) {
    std::vector<std::vector<float>> data = F32Values(c.rank(), sizes);
    std::vector<TensorView> views = Views(data);
    auto reducer = AdasumReducer::Create(c);
    ASSERT_TRUE(reducer.ok()) << reducer.status();
    (*reducer)->set_exchange(x);
    ASSERT_TRUE((*reducer)->Allreduce(views, comm::DataType::kF32).ok());
    for (size_t k = 0; k < sizes.size(); ++k) {
      double num = 0, den = 0;
      for (size_t i = 0; i < want[k].size(); ++i) {
        num += (want[k][i] - data[k][i]) * (want[k][i] - data[k][i]);
        den += want[k][i] * want[k][i];
      }
      EXPECT_LT(std::sqrt(num / den) / 100, FLT_EPSILON)
          << "exchange " << static_cast<int>(x) << " tensor " << k;
      std::vector<float> root = data[k];
      ASSERT_TRUE(c.Broadcast(root.data(), sizes[k], comm::DataType::kF32, 0).ok());
      EXPECT_EQ(data[k], root) << "exchange " << static_cast<int>(x) << ": rank " << c.rank()
                               << " differs from rank 0 in tensor " << k;
    }
  }
}

// kReadPeer lands the partner's half window by window through ReadPeer where the transport can
// (process_vm_readv between the ranks, as under mpirun here), and as kInPlace otherwise
// (LOOM_COMM_CMA=0: MapPeer lands it). Both must give the copy path's bits in every type, with tensors cut by the
// piece grid, the read windows and the halving boundaries at odd places; the sum too.
TEST(AdasumMpi, ReadingThePartnerInPlaceGivesTheCopyPathsBits) {
  for (bool cma : {true, false}) {
    if (!cma) setenv("LOOM_COMM_CMA", "0", 1);
    std::unique_ptr<comm::Communicator> world = PowerOfTwoWorld();
    unsetenv("LOOM_COMM_CMA");
    if (!world) GTEST_SKIP() << "needs a power-of-two rank count";
    comm::Communicator& c = *world;
    if (!cma) {
      EXPECT_FALSE(c.transport().can_read_peer());
    }
    const std::vector<size_t> sizes = {1, 131077, 300, 400009, 7, 65536 * 3 + 5};
    for (comm::DataType t : {comm::DataType::kF32, comm::DataType::kF64, comm::DataType::kF16,
                             comm::DataType::kBF16}) {
      const size_t es = comm::DataTypeSize(t);
      for (bool adasum : {true, false}) {
        std::vector<std::vector<std::byte>> got;
        using X = AdasumReducer::Exchange;
        for (X x : {X::kReadPeer, X::kCopy}) {
          std::vector<std::byte> data;
          for (size_t k = 0; k < sizes.size(); ++k)
            for (double v : Values(c.rank(), static_cast<int>(k), sizes[k])) {
              std::byte e[8];
              if (t == comm::DataType::kF32) { float f = static_cast<float>(v); std::memcpy(e, &f, 4); }
              if (t == comm::DataType::kF64) std::memcpy(e, &v, 8);
              if (t == comm::DataType::kF16) { uint16_t h = comm::FloatToHalf(static_cast<float>(v)); std::memcpy(e, &h, 2); }
              if (t == comm::DataType::kBF16) { uint16_t h = comm::FloatToBFloat16(static_cast<float>(v)); std::memcpy(e, &h, 2); }
              data.insert(data.end(), e, e + es);
            }
          std::vector<TensorView> views;
          size_t off = 0;
          for (size_t n : sizes) {
            views.push_back({data.data() + off * es, n});
            off += n;
          }
          auto reducer = AdasumReducer::Create(c);
          ASSERT_TRUE(reducer.ok()) << reducer.status();
          (*reducer)->set_exchange(x);
          (*reducer)->set_sum_in_place(x == X::kReadPeer);
          Status s = adasum ? (*reducer)->Allreduce(views, t) : (*reducer)->SumAllreduce(views, t);
          ASSERT_TRUE(s.ok()) << s;
          got.push_back(std::move(data));
        }
        EXPECT_TRUE(got[0] == got[1]) << comm::DataTypeName(t) << (adasum ? " adasum" : " sum")
                                      << (cma ? "" : " without CMA") << ": rank " << c.rank();
      }
    }
  }
}

// Hierarchical mode over MPI with nodes of 2 ranks (rank / 2; under the test's one-host mpirun
// the "nodes" are a colouring, which is all the reducer sees): the Adasum tree over the node
// averages, the same bits on every rank.
// Under the tests' one-host mpirun every rank shares the host: colour 0 (the smallest world rank).
TEST(AdasumMpi, HostColourIsTheHostsFirstWorldRank) {
  auto colour = comm::mpi::HostColour();
  ASSERT_TRUE(colour.ok()) << colour.status();
  EXPECT_EQ(*colour, 0);
}

TEST(AdasumMpi, HierarchicalIsTheTreeOverTheNodeAverages) {
  std::unique_ptr<comm::Communicator> world = PowerOfTwoWorld();
  if (!world || world->size() < 4) GTEST_SKIP() << "needs 2^k >= 4 ranks";
  comm::Communicator& c = *world;
  const int p = c.size();
  auto red = HierarchicalAdasumReducer::Create(c, c.rank() / 2);
  ASSERT_TRUE(red.ok()) << red.status();
  ASSERT_EQ((*red)->nodes(), p / 2);
  const std::vector<size_t> sizes = {size_t(20 * p - 17), 3, size_t{1} << 16};
  std::vector<std::vector<float>> data = F32Values(c.rank(), sizes);
  std::vector<TensorView> views = Views(data);
  ASSERT_TRUE((*red)->Allreduce(views, comm::DataType::kF32).ok());
  for (size_t k = 0; k < sizes.size(); ++k) {
    std::vector<std::vector<double>> averages;
    for (int node = 0; node < p / 2; ++node) {
      std::vector<double> avg(sizes[k], 0.0);
      for (int r = 2 * node; r < 2 * node + 2; ++r) {
        auto v = Values(r, static_cast<int>(k), sizes[k]);
        for (size_t i = 0; i < avg.size(); ++i) avg[i] += static_cast<float>(v[i]) / 2.0;
      }
      averages.push_back(avg);
    }
    std::vector<double> want = TreeReference(averages);
    double num = 0, den = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      num += (want[i] - data[k][i]) * (want[i] - data[k][i]);
      den += want[i] * want[i];
    }
    EXPECT_LT(std::sqrt(num / den) / 100, FLT_EPSILON) << "tensor " << k;
    std::vector<float> root = data[k];
    ASSERT_TRUE(c.Broadcast(root.data(), sizes[k], comm::DataType::kF32, 0).ok());
    EXPECT_EQ(data[k], root) << "rank " << c.rank() << " differs from rank 0 in tensor " << k;
  }
}

}  // namespace
}  // namespace loom::adasum
