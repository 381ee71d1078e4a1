// Every collective x algorithm x dtype x op x rank count x size (0, 1, p-1, p, p+1, 20p-17)
// on the thread backend, against a sequential reference computed in double. Inputs are small
// integers, so every order of summation is exact and comparisons are bitwise.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "loom/base/strings.h"
#include "loom/comm/communicator.h"
#include "loom/comm/dtype.h"
#include "loom/comm/thread/thread_transport.h"

namespace loom::comm {
namespace {

using Bytes = std::vector<std::byte>;

constexpr DataType kTypes[] = {DataType::kF32, DataType::kF64, DataType::kF16,
                               DataType::kBF16, DataType::kI32, DataType::kI64};
constexpr ReduceOp kOps[] = {ReduceOp::kSum, ReduceOp::kProd, ReduceOp::kMin, ReduceOp::kMax,
                             ReduceOp::kAvg};

// Small integers: exact in every type; products stay tiny (at most four 2s per element).
double Value(ReduceOp op, int rank, size_t i) {
  size_t k = static_cast<size_t>(rank) * 7 + i * 3;
  if (op == ReduceOp::kProd) return (k % 4 == 0) ? 2.0 : ((k % 5 == 1) ? -1.0 : 1.0);
  return static_cast<double>(k % 9) - 3.0;
}

Bytes Input(DataType t, ReduceOp op, int rank, size_t count, size_t salt = 0) {
  size_t es = DataTypeSize(t);
  Bytes b(count * es);
  for (size_t i = 0; i < count; ++i) StoreElement(t, b.data() + i * es, Value(op, rank, i + salt));
  return b;
}

// The obvious sequential reduction of element i over all ranks.
Bytes Reference(DataType t, ReduceOp op, int p, size_t count, size_t salt = 0) {
  size_t es = DataTypeSize(t);
  Bytes out(count * es);
  for (size_t i = 0; i < count; ++i) {
    double acc = Value(op, 0, i + salt);
    for (int r = 1; r < p; ++r) {
      double v = Value(op, r, i + salt);
      switch (op) {
        case ReduceOp::kSum: case ReduceOp::kAvg: acc += v; break;
        case ReduceOp::kProd: acc *= v; break;
        case ReduceOp::kMin: acc = std::min(acc, v); break;
        case ReduceOp::kMax: acc = std::max(acc, v); break;
        default: break;
      }
    }
    StoreElement(t, out.data() + i * es, acc);
  }
  FinishAverage(t, op, out.data(), count, p);  // the division itself is one obvious line
  return out;
}

std::vector<size_t> Counts(int p) {
  std::vector<size_t> c = {0, 1, static_cast<size_t>(p), static_cast<size_t>(p + 1),
                           static_cast<size_t>(20 * p - 17)};
  if (p > 1) c.push_back(static_cast<size_t>(p - 1));
  return c;
}

constexpr int kRankCounts[] = {1, 2, 3, 4, 5, 7, 8, 16};

TEST(Collectives, AllReduceMatchesSequentialReference) {
  for (int p : kRankCounts)
    for (Algorithm a : {Algorithm::kRing, Algorithm::kHalvingDoubling, Algorithm::kRecursiveDoubling})
      for (DataType t : kTypes)
        for (ReduceOp op : kOps)
          for (size_t count : Counts(p)) {
            Bytes want = Reference(t, op, p, count);
            Status s = thread::RunRanks(p, [&](Communicator& c) -> Status {
              Bytes in = Input(t, op, c.rank(), count), out(in.size());
              bool in_place = c.rank() % 2 == 1;  // mix in-place and out-of-place calls
              LOOM_RETURN_IF_ERROR(c.AllReduce(in.data(), in_place ? in.data() : out.data(), count,
                                               t, op, {.algorithm = a}));
              if ((in_place ? in : out) != want) return InternalError("wrong result");
              return OkStatus();
            });
            ASSERT_TRUE(s.ok()) << s << " p=" << p << " algo=" << AlgorithmName(a) << " "
                                << DataTypeName(t) << " " << ReduceOpName(op) << " n=" << count;
          }
}

TEST(Collectives, ReduceScatterAndReduceMatchReference) {
  for (int p : kRankCounts)
    for (DataType t : kTypes)
      for (ReduceOp op : kOps)
        for (size_t count : {size_t{0}, size_t{1}, size_t{3}, size_t{17}}) {
          Bytes want = Reference(t, op, p, count * static_cast<size_t>(p));
          const size_t es = DataTypeSize(t);
          Status s = thread::RunRanks(p, [&](Communicator& c) -> Status {
            Bytes in = Input(t, op, c.rank(), count * static_cast<size_t>(p)), out(count * es);
            LOOM_RETURN_IF_ERROR(c.ReduceScatter(in.data(), out.data(), count, t, op));
            if (!std::equal(out.begin(), out.end(),
                            want.begin() + static_cast<long>(static_cast<size_t>(c.rank()) * count * es)))
              return InternalError("reduce-scatter: wrong block");
            int root = p - 1;
            Bytes red(in.size());
            LOOM_RETURN_IF_ERROR(c.Reduce(in.data(), red.data(), count * static_cast<size_t>(p), t,
                                          op, root));
            if (c.rank() == root && red != want) return InternalError("reduce: wrong result");
            return OkStatus();
          });
          ASSERT_TRUE(s.ok()) << s << " p=" << p << " " << DataTypeName(t) << " "
                              << ReduceOpName(op) << " n=" << count;
        }
}

TEST(Collectives, DataMovementMatchesReference) {
  for (int p : kRankCounts)
    for (size_t count : Counts(p)) {
      const DataType t = DataType::kI32;
      const size_t es = 4, pc = static_cast<size_t>(p);
      Status s = thread::RunRanks(p, [&](Communicator& c) -> Status {
        const int r = c.rank();
        // AllGather: rank order.
        Bytes mine = Input(t, ReduceOp::kSum, r, count), all(count * es * pc);
        LOOM_RETURN_IF_ERROR(c.AllGather(mine.data(), all.data(), count, t));
        for (int q = 0; q < p; ++q)
          if (!std::equal(all.begin() + static_cast<long>(static_cast<size_t>(q) * count * es),
                          all.begin() + static_cast<long>(static_cast<size_t>(q + 1) * count * es),
                          Input(t, ReduceOp::kSum, q, count).begin()))
            return InternalError("allgather");
        // AllToAll: block j of rank i = Input(i, salt j); rank j receives it at block i.
        Bytes send(count * es * pc), recv(send.size());
        for (int j = 0; j < p; ++j) {
          Bytes b = Input(t, ReduceOp::kSum, r, count, static_cast<size_t>(j) * 1000);
          std::copy(b.begin(), b.end(), send.begin() + static_cast<long>(static_cast<size_t>(j) * count * es));
        }
        for (Algorithm a : {Algorithm::kAuto, Algorithm::kPairwise, Algorithm::kLinear}) {
          std::fill(recv.begin(), recv.end(), std::byte{0x5a});
          LOOM_RETURN_IF_ERROR(c.AllToAll(send.data(), recv.data(), count, t, {.algorithm = a}));
          for (int i = 0; i < p; ++i) {
            Bytes b = Input(t, ReduceOp::kSum, i, count, static_cast<size_t>(r) * 1000);
            if (!std::equal(b.begin(), b.end(), recv.begin() + static_cast<long>(static_cast<size_t>(i) * count * es)))
              return InternalError(StrCat("alltoall ", AlgorithmName(a)));
          }
        }
        // Broadcast from every root.
        for (int root = 0; root < p; ++root) {
          Bytes buf = r == root ? Input(t, ReduceOp::kSum, root, count, 77) : Bytes(count * es);
          LOOM_RETURN_IF_ERROR(c.Broadcast(buf.data(), count, t, root));
          if (buf != Input(t, ReduceOp::kSum, root, count, 77)) return InternalError("broadcast");
        }
        // Gather and scatter at the last rank.
        int root = p - 1;
        Bytes g(count * es * pc);
        LOOM_RETURN_IF_ERROR(c.Gather(mine.data(), g.data(), count, t, root));
        if (r == root && g != all) return InternalError("gather");
        Bytes piece(count * es);
        LOOM_RETURN_IF_ERROR(c.Scatter(r == root ? all.data() : nullptr, piece.data(), count, t, root));
        if (piece != mine) return InternalError("scatter");
        return OkStatus();
      });
      ASSERT_TRUE(s.ok()) << s << " p=" << p << " n=" << count;
    }
}

// Allgather (ring, Bruck, recursive doubling), gather and scatter (linear, binomial) at three
// roots, out of place and in place, every dtype, against the concatenation of the inputs.
TEST(Collectives, GatherFamilyEveryAlgorithmMatchesReference) {
  const Algorithm kAllGather[] = {Algorithm::kAuto, Algorithm::kRing, Algorithm::kBruck,
                                  Algorithm::kRecursiveDoubling};
  const Algorithm kRooted[] = {Algorithm::kAuto, Algorithm::kLinear, Algorithm::kBinomial};
  for (int p : kRankCounts)
    for (size_t count : Counts(p)) {
      const size_t pc = static_cast<size_t>(p);
      Status s = thread::RunRanks(p, [&](Communicator& c) -> Status {
        const int r = c.rank();
        for (DataType t : kTypes) {
          const size_t es = DataTypeSize(t), blk = count * es;
          Bytes all;  // the sequential reference: every rank's block in rank order
          for (int q = 0; q < p; ++q) {
            Bytes b = Input(t, ReduceOp::kSum, q, count, 5);
            all.insert(all.end(), b.begin(), b.end());
          }
          const Bytes mine = Input(t, ReduceOp::kSum, r, count, 5);
          auto where = [&](Algorithm a) {
            return StrCat(DataTypeName(t), " ", AlgorithmName(a), " rank ", r);
          };
          for (Algorithm a : kAllGather) {
            const bool pow2 = (p & (p - 1)) == 0;
            Bytes out(pc * blk, std::byte{0x5a});
            Status st = c.AllGather(mine.data(), out.data(), count, t, {.algorithm = a});
            if (a == Algorithm::kRecursiveDoubling && !pow2) {
              // Defined behaviour: refused, never substituted (every rank gets the same answer).
              if (st.code() != StatusCode::kInvalidArgument) return InternalError("rd accepted " + where(a));
              continue;
            }
            LOOM_RETURN_IF_ERROR(st.WithContext(where(a)));
            if (out != all) return InternalError("allgather " + where(a));
            // In place: this rank's block already sits at its place in recv.
            Bytes inplace(pc * blk, std::byte{0x33});
            std::copy(mine.begin(), mine.end(), inplace.begin() + static_cast<long>(static_cast<size_t>(r) * blk));
            LOOM_RETURN_IF_ERROR(c.AllGather(inplace.data() + static_cast<size_t>(r) * blk, inplace.data(),
                                             count, t, {.algorithm = a}));
            if (inplace != all) return InternalError("in-place allgather " + where(a));
          }
          for (int root : {0, p / 2, p - 1}) {
            for (Algorithm a : kRooted) {
              Bytes g(r == root ? pc * blk : 0, std::byte{0x11});
              LOOM_RETURN_IF_ERROR(c.Gather(mine.data(), r == root ? g.data() : nullptr, count, t, root,
                                            {.algorithm = a}).WithContext(where(a)));
              if (r == root && g != all) return InternalError(StrCat("gather root ", root, " ", where(a)));
              Bytes piece(blk, std::byte{0x22});
              LOOM_RETURN_IF_ERROR(c.Scatter(r == root ? all.data() : nullptr, piece.data(), count, t, root,
                                             {.algorithm = a}).WithContext(where(a)));
              if (piece != mine) return InternalError(StrCat("scatter root ", root, " ", where(a)));
              // In place at the root: gather's own block already in recv, scatter's left in send.
              Bytes g2(pc * blk, std::byte{0x44});
              if (r == root) std::copy(mine.begin(), mine.end(), g2.begin() + static_cast<long>(static_cast<size_t>(r) * blk));
              const void* gsend = r == root ? static_cast<const void*>(g2.data() + static_cast<size_t>(r) * blk) : mine.data();
              LOOM_RETURN_IF_ERROR(c.Gather(gsend, g2.data(), count, t, root, {.algorithm = a}));
              if (r == root && g2 != all) return InternalError(StrCat("in-place gather ", where(a)));
              Bytes s2 = all;
              void* srecv = r == root ? static_cast<void*>(s2.data() + static_cast<size_t>(r) * blk) : piece.data();
              LOOM_RETURN_IF_ERROR(c.Scatter(s2.data(), srecv, count, t, root, {.algorithm = a}));
              if (r == root && s2 != all) return InternalError(StrCat("in-place scatter ", where(a)));
            }
          }
        }
        return OkStatus();
      });
      ASSERT_TRUE(s.ok()) << s << " p=" << p << " n=" << count;
    }
}

TEST(Collectives, AutoSelectsTheNewAlgorithmsWhereTheyApply) {
  EXPECT_EQ(SelectAlgorithm(CollectiveKind::kAllGather, 8, 1024), Algorithm::kRecursiveDoubling);
  EXPECT_EQ(SelectAlgorithm(CollectiveKind::kAllGather, 6, 1024), Algorithm::kBruck);
  EXPECT_EQ(SelectAlgorithm(CollectiveKind::kAllGather, 8, size_t{64} << 20), Algorithm::kRing);
  EXPECT_EQ(SelectAlgorithm(CollectiveKind::kGather, 8, 1024), Algorithm::kBinomial);
  EXPECT_EQ(SelectAlgorithm(CollectiveKind::kScatter, 8, size_t{64} << 20), Algorithm::kLinear);
  EXPECT_EQ(SelectAlgorithm(CollectiveKind::kAllToAll, 8, 1024), Algorithm::kLinear);
  EXPECT_EQ(SelectAlgorithm(CollectiveKind::kAllToAllV, 4, size_t{64} << 20), Algorithm::kPairwise);
  for (int p : kRankCounts)
    for (CollectiveKind k : {CollectiveKind::kAllReduce, CollectiveKind::kAllGather,
                             CollectiveKind::kReduceScatter, CollectiveKind::kAllToAll,
                             CollectiveKind::kBroadcast, CollectiveKind::kReduce,
                             CollectiveKind::kGather, CollectiveKind::kScatter})
      for (size_t b : {size_t{0}, size_t{4096}, size_t{1} << 30})
        EXPECT_TRUE(Implements(SelectAlgorithm(k, p, b), k, p)) << CollectiveKindName(k) << " p=" << p;
}

TEST(Collectives, AllToAllVWithRaggedCounts) {
  for (int p : kRankCounts) {
    const size_t pc = static_cast<size_t>(p);
    auto n = [](int i, int j) { return static_cast<size_t>((i * 5 + j * 3) % 7); };  // i -> j
    Status s = thread::RunRanks(p, [&](Communicator& c) -> Status {
      const int r = c.rank();
      std::vector<size_t> sc(pc), sd(pc), rc(pc), rd(pc);
      size_t st = 0, rt = 0;
      for (int j = 0; j < p; ++j) {
        sc[static_cast<size_t>(j)] = n(r, j);
        sd[static_cast<size_t>(j)] = st;
        st += n(r, j) + 1;  // gaps between blocks
        rc[static_cast<size_t>(j)] = n(j, r);
        rd[static_cast<size_t>(j)] = rt;
        rt += n(j, r);
      }
      std::vector<int64_t> send(st, -1);
      for (int j = 0; j < p; ++j)
        for (size_t k = 0; k < sc[static_cast<size_t>(j)]; ++k)
          send[sd[static_cast<size_t>(j)] + k] = r * 10000 + j * 100 + static_cast<int64_t>(k);
      for (Algorithm a : {Algorithm::kAuto, Algorithm::kPairwise, Algorithm::kLinear}) {
        std::vector<int64_t> recv(rt, -1);
        LOOM_RETURN_IF_ERROR(c.AllToAllV(send.data(), sc, sd, recv.data(), rc, rd,
                                         DataType::kI64, {.algorithm = a}));
        for (int i = 0; i < p; ++i)
          for (size_t k = 0; k < rc[static_cast<size_t>(i)]; ++k)
            if (recv[rd[static_cast<size_t>(i)] + k] != i * 10000 + r * 100 + static_cast<int64_t>(k))
              return InternalError(StrCat("alltoallv ", AlgorithmName(a)));
      }
      return OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s << " p=" << p;
  }
}

TEST(Collectives, BarrierLetsNoRankLeaveEarly) {
  for (int p : kRankCounts) {
    std::atomic<int> entered{0};
    Status s = thread::RunRanks(p, [&](Communicator& c) -> Status {
      for (int round = 1; round <= 3; ++round) {
        entered.fetch_add(1);
        LOOM_RETURN_IF_ERROR(c.Barrier());
        if (entered.load() < round * p) return InternalError("left the barrier early");
        LOOM_RETURN_IF_ERROR(c.Barrier());
      }
      return OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s << " p=" << p;
  }
}

TEST(Collectives, SplitFormsGroupsOrderedByKey) {
  Status s = thread::RunRanks(8, [](Communicator& c) -> Status {
    const int r = c.rank();
    int color = r == 7 ? -1 : r % 2;
    LOOM_ASSIGN_OR_RETURN(auto sub, c.Split(color, -r));
    if (r == 7) {
      if (sub != nullptr) return InternalError("color -1 got a group");
      return c.Barrier();
    }
    int expected_size = r % 2 == 0 ? 4 : 3;
    if (sub->size() != expected_size) return InternalError("group size");
    // key = -rank: the highest old rank becomes rank 0.
    int higher = 0;
    for (int q = r + 2; q < 7; q += 2) ++higher;
    if (sub->rank() != higher) return InternalError("group order");
    int64_t v = r, sum = 0;
    LOOM_RETURN_IF_ERROR(sub->AllReduce(&v, &sum, 1, DataType::kI64, ReduceOp::kSum));
    int64_t want = r % 2 == 0 ? 0 + 2 + 4 + 6 : 1 + 3 + 5;
    if (sum != want) return InternalError("sum within the group");
    // The parent still works after the split.
    LOOM_RETURN_IF_ERROR(c.Barrier());
    return OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
}

TEST(Collectives, LargeVectorBothAllReduceAlgorithms) {
  const size_t count = (size_t{1} << 19) + 3;
  for (int p : {3, 8})
    for (Algorithm a : {Algorithm::kRing, Algorithm::kHalvingDoubling, Algorithm::kRecursiveDoubling}) {
      Bytes want = Reference(DataType::kF32, ReduceOp::kSum, p, count);
      Status s = thread::RunRanks(p, [&](Communicator& c) -> Status {
        Bytes in = Input(DataType::kF32, ReduceOp::kSum, c.rank(), count);
        LOOM_RETURN_IF_ERROR(c.AllReduce(in.data(), in.data(), count, DataType::kF32,
                                         ReduceOp::kSum, {.algorithm = a}));
        return in == want ? OkStatus() : InternalError("wrong result");
      });
      ASSERT_TRUE(s.ok()) << s << " p=" << p;
    }
}

}  // namespace
}  // namespace loom::comm
