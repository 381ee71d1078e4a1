// Hierarchical Adasum against its definition (hierarchical.h, the systems brief's oracle): the
// sequential double Adasum tree (reference.h) over the nodes' averages, nodes in colour order,
// with Horovod's criterion (relative L2 error / 100 < eps). Also: one rank per node is the flat
// reducer bit for bit, one node is the average, interleaved colours, tensors cut by block
// boundaries, the in-place path, the sum baseline exactly, and bad layouts refused on every rank.
#include "loom/adasum/hierarchical.h"

#include <functional>
#include <map>

#include <gtest/gtest.h>

#include "loom/adasum/delta_sync.h"
#include "loom/adasum/reference.h"
#include "loom/adasum/test_util.h"
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

// colour(rank) -> node colour.
using Colour = std::function<int(int rank)>;

Colour Blocks(int local_size) {
  return [local_size](int r) { return r / local_size; };
}

// Rank r's values for tensor k: gen's, cut to sizes[k].
Vec Values(const Gen& gen, const std::vector<size_t>& sizes, int r, size_t k) {
  Vec v = gen(r, static_cast<int>(k));
  v.resize(sizes[k]);
  return v;
}

struct Outcome {
  Status status;
  std::vector<std::vector<std::vector<std::byte>>> results;  // [rank][tensor]
};

// Every rank reduces its `sizes.size()` tensors (gen(rank, k)); `contiguous` puts them back to
// back in one buffer.
Outcome Reduce(int p, const Colour& colour, const std::vector<size_t>& sizes, DataType t,
               const Gen& gen, bool adasum = true, bool contiguous = false) {
  Outcome run;
  run.results.resize(static_cast<size_t>(p));
  run.status = comm::thread::RunRanks(p, [&](Communicator& c) -> Status {
    std::vector<std::vector<std::byte>> data;
    for (size_t k = 0; k < sizes.size(); ++k)
      data.push_back(Encode(t, Values(gen, sizes, c.rank(), k)));
    const size_t es = comm::DataTypeSize(t);
    std::vector<std::byte> whole;
    std::vector<TensorView> views;
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
    LOOM_ASSIGN_OR_RETURN(auto red, HierarchicalAdasumReducer::Create(c, colour(c.rank())));
    LOOM_RETURN_IF_ERROR(adasum ? red->Allreduce(views, t) : red->SumAllreduce(views, t));
    if (contiguous) {
      size_t off = 0;
      for (auto& d : data) {
        if (!d.empty()) std::memcpy(d.data(), whole.data() + off, d.size());
        off += d.size();
      }
    }
    run.results[static_cast<size_t>(c.rank())] = std::move(data);
    return OkStatus();
  });
  return run;
}

// The definition: per tensor, the Adasum tree over the nodes' averages (dtype-rounded inputs,
// double arithmetic), nodes ordered by colour, members of a node by rank.
Vec Want(int p, const Colour& colour, const std::vector<size_t>& sizes, DataType t, const Gen& gen,
         size_t tensor) {
  std::map<int, std::vector<int>> nodes;
  for (int r = 0; r < p; ++r) nodes[colour(r)].push_back(r);
  std::vector<Vec> averages;
  for (auto& [c, members] : nodes) {
    Vec avg;
    for (int r : members) {
      Vec x = Decode(t, Encode(t, Values(gen, sizes, r, tensor)));
      if (avg.empty()) avg.assign(x.size(), 0.0);
      for (size_t i = 0; i < x.size(); ++i) avg[i] += x[i];
    }
    for (double& v : avg) v /= static_cast<double>(members.size());
    averages.push_back(avg);
  }
  return TreeReference(averages);
}

// Checks every rank against Want and against rank 0 bitwise; returns the worst relative error.
double Check(int p, const Colour& colour, const std::vector<size_t>& sizes, DataType t,
             const Gen& gen, const Outcome& run) {
  EXPECT_TRUE(run.status.ok()) << run.status;
  if (!run.status.ok()) return 1e9;
  double worst = 0;
  for (size_t k = 0; k < sizes.size(); ++k) {
    for (int r = 1; r < p; ++r)
      EXPECT_EQ(run.results[static_cast<size_t>(r)][k], run.results[0][k])
          << "rank " << r << " differs from rank 0 in tensor " << k;
    worst =
        std::max(worst, RelError(Want(p, colour, sizes, t, gen, k), Decode(t, run.results[0][k])));
  }
  return worst;
}

TEST(HierarchicalAdasum, IsTheAdasumTreeOverTheNodesAverages) {
  const std::pair<int, int> layouts[] = {{2, 2}, {2, 4}, {4, 2}, {4, 4}, {8, 2}, {2, 8}};
  for (DataType t : {DataType::kF32, DataType::kF16, DataType::kF64, DataType::kBF16})
    for (auto [nodes, local] : layouts) {
      const int p = nodes * local;
      for (size_t n : {size_t(20 * p - 17), size_t(2 * p + 1), size_t(p + 2), size_t(1)}) {
        const std::vector<size_t> sizes = {n, n / 3 + 1};
        const Gen gen = Gaussian(n, 17 + n);
        const Outcome run = Reduce(p, Blocks(local), sizes, t, gen);
        const double err = Check(p, Blocks(local), sizes, t, gen, run);
        EXPECT_LT(err / 100, Eps(t))
            << comm::DataTypeName(t) << " nodes=" << nodes << " local=" << local << " n=" << n;
      }
    }
}

TEST(HierarchicalAdasum, OneRankPerNodeIsTheFlatReducerBitForBit) {
  for (int p : {2, 4, 8}) {
    const std::vector<size_t> sizes = {size_t(20 * p - 17), 5, 1000};
    const Gen gen = Gaussian(1000, 3);
    const Outcome hier = Reduce(p, Blocks(1), sizes, DataType::kF32, gen);
    ASSERT_TRUE(hier.status.ok()) << hier.status;
    std::vector<std::vector<std::vector<std::byte>>> flat(static_cast<size_t>(p));
    Status s = comm::thread::RunRanks(p, [&](Communicator& c) -> Status {
      std::vector<std::vector<std::byte>> data;
      std::vector<TensorView> views;
      for (size_t k = 0; k < sizes.size(); ++k)
        data.push_back(Encode(DataType::kF32, Values(gen, sizes, c.rank(), k)));
      for (auto& d : data) views.push_back({d.data(), d.size() / 4});
      LOOM_RETURN_IF_ERROR(AdasumAllreduce(c, views));
      flat[static_cast<size_t>(c.rank())] = std::move(data);
      return OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    for (size_t k = 0; k < sizes.size(); ++k)
      EXPECT_EQ(hier.results[0][k], flat[0][k]) << "p=" << p << " tensor " << k;
  }
}

TEST(HierarchicalAdasum, OneNodeIsTheAverage) {
  const std::vector<size_t> sizes = {37, 4};
  const Gen gen = Gaussian(37, 5);
  const Outcome run = Reduce(4, Blocks(4), sizes, DataType::kF64, gen);
  EXPECT_LT(Check(4, Blocks(4), sizes, DataType::kF64, gen, run), 1e-15);
}

TEST(HierarchicalAdasum, NodesFollowTheirColoursNotTheRankOrder) {
  // Round-robin placement (mpirun --map-by node): node colour 30 - 10·(rank mod 4), so the
  // colour order reverses the first ranks' order and no node is a block of ranks.
  const Colour colour = [](int r) { return 30 - 10 * (r % 4); };
  const std::vector<size_t> sizes = {45, 3};
  const Gen gen = Gaussian(45, 9);
  const Outcome run = Reduce(8, colour, sizes, DataType::kF32, gen);
  EXPECT_LT(Check(8, colour, sizes, DataType::kF32, gen, run) / 100, Eps(DataType::kF32));
  // The same inputs with nodes as rank blocks is a different tree: the colours were honoured.
  const Outcome blocks = Reduce(8, Blocks(2), sizes, DataType::kF32, gen);
  ASSERT_TRUE(blocks.status.ok());
  EXPECT_NE(blocks.results[0][0], run.results[0][0]);
}

TEST(HierarchicalAdasum, TensorsCutByBlockBoundariesUsePerTensorCoefficients) {
  // 60 tensors of 0-9 elements (n = 270) over 4 local blocks of 68: most blocks end inside a
  // tensor, and collinear-opposite data makes a tensor's coefficients wrong if taken per block.
  std::vector<size_t> sizes;
  for (size_t k = 0; k < 60; ++k) sizes.push_back((k * 7) % 10);
  const Gen gen = [&](int rank, int tensor) {
    Vec v(sizes[static_cast<size_t>(tensor)]);
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = (1.0 + static_cast<double>(i)) * (rank % 2 == 0 ? 1.0 : -0.5) * (1 + tensor % 3) +
             0.25 * rank;
    return v;
  };
  for (bool contiguous : {false, true}) {
    const Outcome run = Reduce(8, Blocks(4), sizes, DataType::kF32, gen, true, contiguous);
    EXPECT_LT(Check(8, Blocks(4), sizes, DataType::kF32, gen, run) / 100, Eps(DataType::kF32))
        << "contiguous=" << contiguous;
  }
}

TEST(HierarchicalAdasum, EmptyListsAreANoOp) {
  for (const std::vector<size_t>& sizes : {std::vector<size_t>{}, std::vector<size_t>{0, 0}}) {
    const Outcome run = Reduce(8, Blocks(2), sizes, DataType::kF32, Gaussian(0, 1));
    EXPECT_TRUE(run.status.ok()) << run.status;
  }
}

TEST(HierarchicalAdasum, InPlaceAndFusedPathsGiveTheSameBits) {
  // 4 local ranks and n = 4·50: the contiguous buffer splits into whole blocks (in place).
  const std::vector<size_t> sizes = {120, 80};
  const Gen gen = Gaussian(120, 21);
  const Outcome fused = Reduce(8, Blocks(4), sizes, DataType::kF32, gen, true, false);
  const Outcome in_place = Reduce(8, Blocks(4), sizes, DataType::kF32, gen, true, true);
  ASSERT_TRUE(fused.status.ok() && in_place.status.ok());
  EXPECT_EQ(fused.results, in_place.results);
}

TEST(HierarchicalAdasum, SumBaselineIsTheSumOfTheNodesAverages) {
  // Small integers and power-of-two node sizes: every partial sum and the average are exact.
  const std::vector<size_t> sizes = {33, 7};
  const Gen gen = [](int rank, int tensor) {
    Vec v(tensor == 0 ? 33 : 7);
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = static_cast<double>((rank * 3 + i * 5 + tensor) % 17);
    return v;
  };
  const Outcome run = Reduce(8, Blocks(4), sizes, DataType::kF32, gen, /*adasum=*/false);
  ASSERT_TRUE(run.status.ok()) << run.status;
  for (size_t k = 0; k < sizes.size(); ++k) {
    Vec want(sizes[k], 0.0);
    for (int r = 0; r < 8; ++r) {
      Vec x = gen(r, static_cast<int>(k));
      for (size_t i = 0; i < want.size(); ++i) want[i] += x[i] / 4;
    }
    for (int r = 0; r < 8; ++r)
      EXPECT_EQ(Decode(DataType::kF32, run.results[static_cast<size_t>(r)][k]), want)
          << "rank " << r << " tensor " << k;
  }
}

// Every rank gets InvalidArgument mentioning `what`.
void ExpectRefusedEverywhere(int p, const Colour& colour, const std::string& what,
                             DataType t = DataType::kF32) {
  std::vector<Status> st = comm::thread::RunRanksEach(p, [&](Communicator& c) -> Status {
    std::vector<float> x(10, 1.0f);
    TensorView v{x.data(), x.size()};
    LOOM_ASSIGN_OR_RETURN(auto red, HierarchicalAdasumReducer::Create(c, colour(c.rank())));
    return red->Allreduce({&v, 1}, t);
  });
  for (int r = 0; r < p; ++r) {
    EXPECT_EQ(st[static_cast<size_t>(r)].code(), StatusCode::kInvalidArgument)
        << "rank " << r << ": " << st[static_cast<size_t>(r)];
    EXPECT_NE(st[static_cast<size_t>(r)].message().find(what), std::string::npos)
        << st[static_cast<size_t>(r)];
  }
}

TEST(HierarchicalAdasum, BadLayoutsAndTypesAreRefusedOnEveryRank) {
  ExpectRefusedEverywhere(
      6, [](int r) { return r < 4 ? 0 : 1; }, "different rank counts (2 to 4)");
  ExpectRefusedEverywhere(6, Blocks(2), "3 nodes is not a power of two");
  ExpectRefusedEverywhere(
      4, [](int r) { return r == 2 ? -1 : 0; }, "rank 2 passed a negative");
  ExpectRefusedEverywhere(4, Blocks(2), "dtype i32", DataType::kI32);
}

TEST(HierarchicalDeltaSync, CombinesTheDeltasAsTheTreeOverNodeAverages) {
  // One local step per sync: rank r moves its params by its own delta; after AfterStep every
  // rank holds start + Tree(node averages of the deltas).
  const Gen delta = Gaussian(23, 31);
  const Vec start(23, 0.5);
  for (int local_steps : {1, 2}) {
    std::vector<Vec> got(8);
    Status s = comm::thread::RunRanks(8, [&](Communicator& c) -> Status {
      std::vector<double> w = start;
      LOOM_ASSIGN_OR_RETURN(auto ds,
                            DeltaSync::CreateHierarchical(c, c.rank() / 4, {{w.data(), w.size()}},
                                                          DataType::kF64, local_steps));
      const Vec d = delta(c.rank(), 0);
      bool synced = false;
      for (int step = 0; step < local_steps; ++step) {
        for (size_t i = 0; i < w.size(); ++i) w[i] += d[i] / local_steps;
        LOOM_ASSIGN_OR_RETURN(synced, ds->AfterStep());
        if (synced != (step + 1 == local_steps)) return InternalError("synced at the wrong step");
      }
      got[static_cast<size_t>(c.rank())] = w;
      return OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    Vec want = Want(8, Blocks(4), {23}, DataType::kF64, delta, 0);
    for (size_t i = 0; i < want.size(); ++i) want[i] += start[i];
    for (int r = 0; r < 8; ++r) {
      EXPECT_LT(RelError(want, got[static_cast<size_t>(r)]), 1e-13) << "rank " << r;
      EXPECT_EQ(got[static_cast<size_t>(r)], got[0]) << "rank " << r;
    }
  }
}

TEST(HierarchicalDeltaSync, BadLayoutsAreRefusedOnEveryRank) {
  std::vector<Status> st = comm::thread::RunRanksEach(6, [&](Communicator& c) -> Status {
    std::vector<float> w(4, 1.0f);
    return DeltaSync::CreateHierarchical(c, c.rank() / 2, {{w.data(), w.size()}}, DataType::kF32)
        .status();
  });
  for (const Status& s : st) EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
}

}  // namespace
}  // namespace loom::adasum
