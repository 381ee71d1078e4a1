// ShmCollectives over memory shared by threads (the MPI backend gives it a shared window; the
// algorithms only see segment pointers): every collective x dtype x op x rank count x size
// (0, 1, not divisible by the rank count, several rounds) against the sequential reference,
// bit for bit; and a missing rank is Unavailable within the timeout.
#include "loom/comm/shm_collectives.h"

#include <cstring>
#include <functional>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "loom/base/aligned_buffer.h"
#include "loom/base/strings.h"
#include "loom/comm/streaming_copy.h"

namespace loom::comm {
namespace {

// Runs fn(rank's ShmCollectives) on p threads over one zeroed region; returns each rank's status.
std::vector<Status> RunShm(int p, size_t buffer_bytes, size_t chunk_bytes, int64_t timeout_ms,
                           const std::function<Status(ShmCollectives&)>& fn) {
  const size_t seg = ShmCollectives::SegmentBytes(buffer_bytes);
  AlignedBuffer<std::byte> region(seg * static_cast<size_t>(p));
  std::vector<std::byte*> segments;
  for (int q = 0; q < p; ++q) segments.push_back(region.data() + seg * static_cast<size_t>(q));
  std::vector<Status> out(static_cast<size_t>(p));
  std::vector<std::thread> threads;
  for (int r = 0; r < p; ++r)
    threads.emplace_back([&, r] {
      ShmCollectives shm(r, segments, buffer_bytes);
      shm.set_chunk_bytes(chunk_bytes);
      shm.set_timeout_ms(timeout_ms);
      out[static_cast<size_t>(r)] = fn(shm);
    });
  for (auto& t : threads) t.join();
  return out;
}

// Element i of rank r's input, stored as `dtype` (small integers: exact in every type).
std::vector<std::byte> Input(DataType dtype, int r, size_t n) {
  const size_t es = DataTypeSize(dtype);
  std::vector<std::byte> v(n * es);
  for (size_t i = 0; i < n; ++i) {
    const double x = static_cast<double>((r * 7 + static_cast<int>(i % 1000) * 3) % 9) - 3 + (i % 5 == 0 ? 1 : 0);
    StoreElement(dtype, v.data() + i * es, x);
  }
  return v;
}

// The sequential reference: rank 0's vector, then ranks 1, 2, … reduced into it in order.
std::vector<std::byte> Reduced(DataType dtype, ReduceOp op, int p, size_t n, size_t from = 0) {
  const size_t es = DataTypeSize(dtype);
  std::vector<std::byte> acc;
  for (int r = 0; r < p; ++r) {
    std::vector<std::byte> in = Input(dtype, r, from + n);
    std::vector<std::byte> part(in.begin() + static_cast<ptrdiff_t>(from * es),
                                in.begin() + static_cast<ptrdiff_t>((from + n) * es));
    if (r == 0) acc = part;
    else ReduceInto(dtype, op, acc.data(), part.data(), n);
  }
  return acc;
}

// Byte i of the block rank `from` sends to rank `to`.
std::byte ByteOf(size_t from, size_t to, size_t i) {
  return static_cast<std::byte>((from * 31 + to * 7 + i * 13) & 0xff);
}

// Rank r's allgather input (its block to itself) and alltoall input (its block to each rank).
void RankBlocks(size_t r, size_t pc, size_t block, std::vector<std::byte>& mine,
                std::vector<std::byte>& all) {
  mine.resize(block);
  all.resize(block * pc);
  for (size_t i = 0; i < block; ++i) mine[i] = ByteOf(r, r, i);
  for (size_t j = 0; j < pc; ++j)
    for (size_t i = 0; i < block; ++i) all[j * block + i] = ByteOf(r, j, i);
}

// Rank s.rank()'s allgather and alltoall of `block`-byte blocks (inputs from RankBlocks, which
// it leaves in mine / all) into zeroed ag / a2a.
Status GatherAndExchange(ShmCollectives& s, size_t pc, size_t block, std::vector<std::byte>& mine,
                         std::vector<std::byte>& all, std::vector<std::byte>& ag,
                         std::vector<std::byte>& a2a) {
  RankBlocks(static_cast<size_t>(s.rank()), pc, block, mine, all);
  ag.assign(block * pc, std::byte{0});
  a2a.assign(block * pc, std::byte{0});
  LOOM_RETURN_IF_ERROR(s.AllGather(mine.data(), ag.data(), block));
  return s.AllToAll(all.data(), a2a.data(), block);
}

// Whether rank r's allgather (ag) and alltoall (a2a) outputs hold what GatherAndExchange's
// inputs put there.
bool Moved(const std::vector<std::byte>& ag, const std::vector<std::byte>& a2a, size_t pc,
           size_t r, size_t block) {
  for (size_t q = 0; q < pc; ++q)
    for (size_t i = 0; i < block; ++i)
      if (ag[q * block + i] != ByteOf(q, q, i) || a2a[q * block + i] != ByteOf(q, r, i)) return false;
  return true;
}

const DataType kTypes[] = {DataType::kF32, DataType::kF64, DataType::kF16,
                           DataType::kBF16, DataType::kI32, DataType::kI64};
const ReduceOp kOps[] = {ReduceOp::kSum, ReduceOp::kProd, ReduceOp::kMin, ReduceOp::kMax,
                         ReduceOp::kAvg};

TEST(ShmCollectives, AllReduceAndReduceScatterMatchTheSequentialReference) {
  for (int p : {1, 2, 3, 4})
    for (DataType t : kTypes)
      for (ReduceOp op : kOps)
        for (size_t n : {size_t{0}, size_t{1}, size_t(p + 1), size_t(20 * p - 17), size_t{3000}}) {
          const size_t es = DataTypeSize(t);
          // 256 B chunks: many rounds in both allreduce modes; 64 KiB: one round, two barriers.
          for (size_t chunk : {size_t{256}, size_t{64} << 10}) {
            std::vector<std::vector<std::byte>> ar(static_cast<size_t>(p)), rs(ar.size());
            auto st = RunShm(p, size_t{64} << 10, chunk, 20000, [&](ShmCollectives& s) -> Status {
              const size_t r = static_cast<size_t>(s.rank());
              std::vector<std::byte> in = Input(t, s.rank(), n * static_cast<size_t>(p));
              ar[r].resize(n * es);
              LOOM_RETURN_IF_ERROR(s.AllReduce(in.data(), ar[r].data(), n, t, op));
              rs[r].resize(n * es);
              return s.ReduceScatter(in.data(), rs[r].data(), n, t, op);
            });
            for (int r = 0; r < p; ++r) {
              ASSERT_TRUE(st[static_cast<size_t>(r)].ok()) << st[static_cast<size_t>(r)];
              const std::string what = StrCat(DataTypeName(t), " ", ReduceOpName(op), " p=", p,
                                              " n=", n, " chunk=", chunk, " rank ", r);
              EXPECT_EQ(ar[static_cast<size_t>(r)], Reduced(t, op, p, n)) << "allreduce " << what;
              EXPECT_EQ(rs[static_cast<size_t>(r)],
                        Reduced(t, op, p, n, static_cast<size_t>(r) * n))
                  << "reducescatter " << what;
            }
          }
        }
}

TEST(ShmCollectives, AllGatherAndAllToAllMoveEveryByte) {
  for (int p : {1, 2, 3, 5})
    for (size_t block : {size_t{0}, size_t{1}, size_t{7}, size_t(64 * p + 3), size_t{5000}})
      for (size_t chunk : {size_t{64}, size_t{1000}, size_t{64} << 10}) {
        const size_t pc = static_cast<size_t>(p);
        std::vector<std::vector<std::byte>> ag(pc), a2a(pc);
        auto st = RunShm(p, size_t{64} << 10, chunk, 20000, [&](ShmCollectives& s) -> Status {
          const size_t r = static_cast<size_t>(s.rank());
          std::vector<std::byte> mine, all;
          return GatherAndExchange(s, pc, block, mine, all, ag[r], a2a[r]);
        });
        for (size_t r = 0; r < pc; ++r) {
          ASSERT_TRUE(st[r].ok()) << st[r];
          EXPECT_TRUE(Moved(ag[r], a2a[r], pc, r, block)) << "p=" << p << " block " << block << " r=" << r;
        }
      }
}

// Mode 0: a memcpy reader; mode 1: the real process_vm_readv (every rank here is a thread of
// this process, so every pid is ours; nullptr where the system has no such call).
ShmCollectives::PeerReader TestReader(int mode, size_t ranks) {
  if (mode == 1) return ShmCollectives::CrossMemoryReader(std::vector<int>(ranks, getpid()));
  return [](int, const void* remote, void* local, size_t bytes) -> Status {
    std::memcpy(local, remote, bytes);
    return OkStatus();
  };
}

// The same for writes: mode 0 a memcpy writer, mode 1 the real process_vm_writev.
ShmCollectives::PeerWriter TestWriter(int mode, size_t ranks) {
  if (mode == 1) return ShmCollectives::CrossMemoryWriter(std::vector<int>(ranks, getpid()));
  return [](int, const void* local, void* remote, size_t bytes) -> Status {
    std::memcpy(remote, local, bytes);
    return OkStatus();
  };
}

// Blocks from DirectMinBytes on go through the PeerReader in one copy: with a memcpy reader and
// with the real process_vm_readv (all ranks here are threads of one process, so every pid is
// ours), in place too, every byte lands where the collective puts it. Blocks below the table's
// thresholds (1, 7, 3000 bytes) are forced direct with set_direct_min_bytes(1). Streamed
// (set_streaming_min_bytes(1), a PeerWriter set): non-temporal own-block copies, and the
// allgather pushed piece by piece (a block over kShmPushPieceBytes takes two pieces).
TEST(ShmCollectives, DirectReadsMoveEveryByte) {
  for (int stream = 0; stream < 2; ++stream)
    for (int mode = 0; mode < 2; ++mode)
      for (int p : {1, 2, 3, 5})
        for (size_t block : {size_t{1}, size_t{7}, size_t{3000}, kShmDirectBytes,
                             kShmDirectBytes + 3, size_t{100003}, kShmPushPieceBytes + 3}) {
          if (block > kShmPushPieceBytes && !stream) continue;
          const size_t pc = static_cast<size_t>(p);
          ShmCollectives::PeerReader reader = TestReader(mode, pc);
          ShmCollectives::PeerWriter writer = TestWriter(mode, pc);
          if (!reader || !writer) GTEST_SKIP() << "no process_vm_readv here";
          SCOPED_TRACE(StrCat("stream ", stream, " mode ", mode, " p=", p, " block ", block));
          std::vector<std::vector<std::byte>> ag(pc), a2a(pc), ag_in_place(pc), a2a_in_place(pc);
          auto st = RunShm(
              p, size_t{64} << 10, size_t{64} << 10, 20000, [&](ShmCollectives& s) -> Status {
                s.set_peer_reader(reader);
                if (stream) {
                  s.set_peer_writer(writer);
                  s.set_streaming_min_bytes(1);
                }
                s.set_direct_allgather(true);
                if (block < kShmDirectBytes) s.set_direct_min_bytes(1);
                const size_t r = static_cast<size_t>(s.rank());
                std::vector<std::byte> mine, all;
                LOOM_RETURN_IF_ERROR(GatherAndExchange(s, pc, block, mine, all, ag[r], a2a[r]));
                // In place: allgather from the rank's own slot, alltoall over its own input.
                ag_in_place[r].assign(block * pc, std::byte{0});
                std::memcpy(ag_in_place[r].data() + r * block, mine.data(), block);
                LOOM_RETURN_IF_ERROR(
                    s.AllGather(ag_in_place[r].data() + r * block, ag_in_place[r].data(), block));
                a2a_in_place[r] = all;
                return s.AllToAll(a2a_in_place[r].data(), a2a_in_place[r].data(), block);
              });
          for (size_t r = 0; r < pc; ++r) {
            ASSERT_TRUE(st[r].ok()) << st[r];
            std::vector<std::byte> want_ag(block * pc), want_a2a(block * pc);
            for (size_t q = 0; q < pc; ++q)
              for (size_t i = 0; i < block; ++i) {
                want_ag[q * block + i] = ByteOf(q, q, i);
                want_a2a[q * block + i] = ByteOf(q, r, i);
              }
            const std::string what = StrCat("mode ", mode, " p=", p, " block ", block, " r=", r);
            EXPECT_TRUE(ag[r] == want_ag) << "allgather " << what;
            EXPECT_TRUE(a2a[r] == want_a2a) << "alltoall " << what;
            EXPECT_TRUE(ag_in_place[r] == want_ag) << "allgather in place " << what;
            EXPECT_TRUE(a2a_in_place[r] == want_a2a) << "alltoall in place " << what;
          }
        }
}

// Which blocks take the PeerReader by default (kDirectMinBytesTable, kDirectAllGatherMaxRanks):
// a counting reader sees a read exactly where the table says so, and the bytes arrive either way.
TEST(ShmCollectives, DirectReadThresholdsFollowTheTable) {
  for (int p : {2, 3}) {
    const size_t pc = static_cast<size_t>(p);
    size_t ag_min = kShmDirectBytes, a2a_min = kShmDirectBytes;
    for (const DirectMinBytesRow& row : kDirectMinBytesTable)
      if (p <= row.max_ranks) {
        ag_min = row.allgather;
        a2a_min = row.alltoall;
        break;
      }
    for (size_t block : {ag_min - 1, ag_min, a2a_min - 1, a2a_min}) {
      std::vector<int> reads(pc, 0);
      std::vector<std::vector<std::byte>> ag(pc), a2a(pc);
      std::vector<int> ag_reads(pc), a2a_reads(pc);
      auto st = RunShm(p, size_t{64} << 10, size_t{64} << 10, 20000, [&](ShmCollectives& s) -> Status {
        const size_t r = static_cast<size_t>(s.rank());
        s.set_peer_reader([&reads, r](int, const void* remote, void* local, size_t bytes) {
          ++reads[r];
          std::memcpy(local, remote, bytes);
          return OkStatus();
        });
        std::vector<std::byte> mine, all;
        for (size_t i = 0; i < block; ++i) mine.push_back(ByteOf(r, r, i));
        ag[r].resize(block * pc);
        LOOM_RETURN_IF_ERROR(s.AllGather(mine.data(), ag[r].data(), block));
        ag_reads[r] = reads[r];
        for (size_t j = 0; j < pc; ++j)
          for (size_t i = 0; i < block; ++i) all.push_back(ByteOf(r, j, i));
        a2a[r].resize(block * pc);
        LOOM_RETURN_IF_ERROR(s.AllToAll(all.data(), a2a[r].data(), block));
        a2a_reads[r] = reads[r] - ag_reads[r];
        return OkStatus();
      });
      for (size_t r = 0; r < pc; ++r) {
        ASSERT_TRUE(st[r].ok()) << st[r];
        const std::string what = StrCat("p=", p, " block ", block, " r=", r);
        const bool ag_direct = block >= ag_min && p <= kDirectAllGatherMaxRanks;
        EXPECT_EQ(ag_reads[r], ag_direct ? p - 1 : 0) << "allgather " << what;
        EXPECT_EQ(a2a_reads[r], block >= a2a_min ? p - 1 : 0) << "alltoall " << what;
        EXPECT_TRUE(Moved(ag[r], a2a[r], pc, r, block)) << what;
      }
    }
  }
}

// Allreduce through the PeerReader (set_direct_allreduce): each rank's slice reduced window by
// window in rank order from the peers' inputs, then the slices read back: bitwise the
// sequential reference, with a memcpy reader and the real process_vm_readv, in place too,
// counts that leave uneven slices and windows (256 KiB) cut mid-slice.
TEST(ShmCollectives, DirectAllReduceMatchesReference) {
  for (int mode = 0; mode < 2; ++mode)
    for (int p : {1, 2, 3, 5})
      for (DataType t : {DataType::kF32, DataType::kF64, DataType::kF16, DataType::kI32})
        for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kProd, ReduceOp::kMin, ReduceOp::kMax})
          for (size_t count : {size_t{16411}, size_t{200003}}) {
            // The real process_vm_readv moves bytes like the memcpy reader: one type and op.
            if (mode == 1 && (t != DataType::kF32 || op != ReduceOp::kSum)) continue;
            const size_t pc = static_cast<size_t>(p), es = DataTypeSize(t);
            ShmCollectives::PeerReader reader = TestReader(mode, pc);
            if (!reader) GTEST_SKIP() << "no process_vm_readv here";
            std::vector<std::vector<std::byte>> out(pc), in_place(pc);
            auto st = RunShm(p, size_t{64} << 10, size_t{64} << 10, 20000,
                             [&](ShmCollectives& s) -> Status {
                               s.set_peer_reader(reader);
                               s.set_direct_allreduce(true);
                               const size_t r = static_cast<size_t>(s.rank());
                               std::vector<std::byte> in = Input(t, s.rank(), count);
                               out[r].assign(count * es, std::byte{0});
                               LOOM_RETURN_IF_ERROR(s.AllReduce(in.data(), out[r].data(), count, t, op));
                               in_place[r] = in;
                               return s.AllReduce(in_place[r].data(), in_place[r].data(), count, t, op);
                             });
            const std::vector<std::byte> want = Reduced(t, op, p, count);
            for (size_t r = 0; r < pc; ++r) {
              ASSERT_TRUE(st[r].ok()) << st[r];
              const std::string what = StrCat("mode ", mode, " p=", p, " ", DataTypeName(t), " ",
                                              ReduceOpName(op), " count ", count, " r=", r);
              EXPECT_TRUE(out[r] == want) << what;
              EXPECT_TRUE(in_place[r] == want) << "in place " << what;
            }
          }
}

// Back-to-back small allreduces (the flagged one-line path, kShmFlaggedBytes) reuse their two
// line regions every other call while fast ranks run ahead: every call's result must be its
// own, in place or not, with staged calls (larger, and an allgather) in between.
TEST(ShmCollectives, BackToBackSmallAllReducesKeepEveryCallsData) {
  for (int p : {2, 3, 5}) {
    auto st =
        RunShm(p, size_t{64} << 10, size_t{64} << 10, 20000, [&](ShmCollectives& s) -> Status {
          const int64_t r = s.rank();
          for (int64_t call = 0; call < 300; ++call) {
            // 1-7 int64 (8-56 bytes), distinct per call and rank.
            const size_t n = static_cast<size_t>(1 + call % 7);
            std::vector<int64_t> in(n), out(n);
            for (size_t i = 0; i < n; ++i) in[i] = call * 1000 + r * 10 + static_cast<int64_t>(i);
            int64_t* dst = call % 2 == 0 ? out.data() : in.data();  // odd calls in place
            LOOM_RETURN_IF_ERROR(s.AllReduce(in.data(), dst, n, DataType::kI64, ReduceOp::kSum));
            for (size_t i = 0; i < n; ++i) {
              const int64_t want =
                  p * (call * 1000 + static_cast<int64_t>(i)) + 10 * p * (p - 1) / 2;
              if (dst[i] != want)
                return InternalError(StrCat("rank ", r, " call ", call, " element ", i, ": ",
                                            dst[i], " want ", want));
            }
            if (call % 50 == 49) {  // a staged allreduce and an allgather in between
              std::vector<int64_t> big(100, r), sum(100);
              LOOM_RETURN_IF_ERROR(
                  s.AllReduce(big.data(), sum.data(), big.size(), DataType::kI64, ReduceOp::kSum));
              if (sum[99] != p * (p - 1) / 2)
                return InternalError("staged allreduce between small ones");
              std::vector<int64_t> all(static_cast<size_t>(p));
              LOOM_RETURN_IF_ERROR(s.AllGather(&r, all.data(), sizeof(int64_t)));
              for (int q = 0; q < p; ++q)
                if (all[static_cast<size_t>(q)] != q)
                  return InternalError("allgather between small allreduces");
            }
          }
          return OkStatus();
        });
    for (const Status& x : st) EXPECT_TRUE(x.ok()) << "p=" << p << ": " << x;
  }
}

// A rank that never arrives at a small (flagged) allreduce: Unavailable naming it, not a hang.
// Non-temporal copies: every length from 0 to 300 bytes at every destination alignment mod 64
// and two source alignments, and a few large ones, copy exactly and touch nothing else.
TEST(StreamingCopy, CopiesEveryByteAtEveryAlignment) {
  std::vector<unsigned char> src(size_t{1} << 20), dst;
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<unsigned char>(i * 131 + 7);
  auto check = [&](size_t n, size_t d_off, size_t s_off) {
    dst.resize(n + 64);
    std::fill(dst.begin(), dst.end(), 0xEE);
    StreamingCopy(dst.data() + d_off, src.data() + s_off, n);
    for (size_t i = 0; i < dst.size(); ++i) {
      const bool inside = i >= d_off && i < d_off + n;
      const unsigned char want = inside ? src[s_off + i - d_off] : 0xEE;
      if (dst[i] != want)
        return testing::AssertionFailure()
               << "n=" << n << " dst+" << d_off << " src+" << s_off << " byte " << i;
    }
    return testing::AssertionSuccess();
  };
  for (size_t n = 0; n <= 300; ++n)
    for (size_t d = 0; d < 64; ++d)
      for (size_t so : {size_t{0}, size_t{5}}) ASSERT_TRUE(check(n, d, so));
  for (size_t n : {size_t{4096}, size_t{65537}, src.size() - 16}) ASSERT_TRUE(check(n, 3, 9));
}

TEST(StreamingCopy, LastLevelCacheIsPlausible) {
  const size_t llc = LastLevelCacheBytes();
  EXPECT_GE(llc, size_t{256} << 10);
  EXPECT_LE(llc, size_t{4} << 30);
}

// A peer that cannot write its block into a rank's recv (its writer fails) must not leave that
// rank returning OK with a hole: every rank of the pushed allgather reports Unavailable.
TEST(ShmCollectives, FailedPushIsReportedByEveryRank) {
  const size_t block = 5000;
  for (int p : {2, 3}) {
    auto st =
        RunShm(p, size_t{64} << 10, size_t{64} << 10, 20000, [&](ShmCollectives& s) -> Status {
          s.set_peer_reader(TestReader(0, static_cast<size_t>(p)));
          const int me = s.rank();
          s.set_peer_writer(
              [me](int peer, const void* local, void* remote, size_t bytes) -> Status {
                if (me == 1 && peer == 0)
                  return UnavailableError("test: rank 1 cannot write rank 0");
                std::memcpy(remote, local, bytes);
                return OkStatus();
              });
          s.set_streaming_min_bytes(1);
          s.set_direct_allgather(true);
          s.set_direct_min_bytes(1);
          std::vector<std::byte> mine(block, std::byte{1}), out(block * static_cast<size_t>(p));
          Status first = s.AllGather(mine.data(), out.data(), block);
          // The communicator stays usable: the next pushed allgather with working writes succeeds.
          s.set_peer_writer(TestWriter(0, static_cast<size_t>(p)));
          LOOM_RETURN_IF_ERROR(s.AllGather(mine.data(), out.data(), block));
          return first;
        });
    for (int r = 0; r < p; ++r) {
      EXPECT_EQ(st[static_cast<size_t>(r)].code(), StatusCode::kUnavailable)
          << "p=" << p << " rank " << r << ": " << st[static_cast<size_t>(r)];
    }
  }
}

TEST(ShmCollectives, MissingRankInASmallAllReduceIsUnavailable) {
  auto st = RunShm(2, size_t{64} << 10, size_t{64} << 10, 200, [](ShmCollectives& s) -> Status {
    if (s.rank() == 1) return OkStatus();  // never arrives
    float x = 1, y = 0;
    Status first = s.AllReduce(&x, &y, 1, DataType::kF32, ReduceOp::kSum);
    if (first.code() != StatusCode::kUnavailable ||
        first.message().find("rank 1 did not reach") == std::string::npos)
      return InternalError(StrCat("expected Unavailable naming rank 1, got ", first.ToString()));
    EXPECT_TRUE(s.broken());
    return OkStatus();
  });
  for (const Status& s : st) EXPECT_TRUE(s.ok()) << s;
}

TEST(ShmCollectives, MissingRankIsUnavailableThenFailedPrecondition) {
  auto st = RunShm(3, size_t{64} << 10, size_t{64} << 10, 200, [](ShmCollectives& s) -> Status {
    if (s.rank() == 2) return OkStatus();  // never arrives
    Status first = s.Barrier();
    if (first.code() != StatusCode::kUnavailable ||
        first.message().find("rank 2 did not reach shared-memory barrier 1 within 200 ms") ==
            std::string::npos)
      return InternalError(StrCat("expected Unavailable naming rank 2, got ", first.ToString()));
    EXPECT_TRUE(s.broken());
    Status again = s.Barrier();
    if (again.code() != StatusCode::kFailedPrecondition)
      return InternalError(StrCat("expected FailedPrecondition, got ", again.ToString()));
    return OkStatus();
  });
  for (const Status& s : st) EXPECT_TRUE(s.ok()) << s;
}

// Unchecked mode, ranks passing different counts: every rank returns InvalidArgument naming a
// rank whose count differs (never a reduction past one rank's data), on the flagged path (both
// counts fit one line), the staged paths (small and multi-round), and allgather / alltoall.
TEST(ShmCollectives, CountMismatchIsInvalidArgumentOnEveryRank) {
  struct Case {
    const char* what;
    size_t mine, rank1;  // elements (allreduce, reducescatter) or bytes (allgather, alltoall)
  };
  for (const Case& c :
       {Case{"allreduce", 4, 6}, Case{"allreduce", 4, 60}, Case{"allreduce", 5000, 5001},
        Case{"allreduce", 40000, 30000}, Case{"reducescatter", 512, 256},
        Case{"allgather", 256, 512}, Case{"alltoall", 1024, 2048}}) {
    for (int p : {2, 3}) {
      auto st =
          RunShm(p, size_t{64} << 10, size_t{64} << 10, 500, [&](ShmCollectives& s) -> Status {
            const size_t n = s.rank() == 1 ? c.rank1 : c.mine;
            std::vector<float> in(n * static_cast<size_t>(p), 1.0f),
                out(n * static_cast<size_t>(p), 0.0f);
            const std::string what = c.what;
            if (what == "allreduce")
              return s.AllReduce(in.data(), out.data(), n, DataType::kF32, ReduceOp::kSum);
            if (what == "reducescatter")
              return s.ReduceScatter(in.data(), out.data(), n, DataType::kF32, ReduceOp::kSum);
            if (what == "allgather") return s.AllGather(in.data(), out.data(), n);
            return s.AllToAll(in.data(), out.data(), n);
          });
      for (size_t r = 0; r < st.size(); ++r) {
        // 4 vs 60 floats: one rank takes the flagged path, the other the staged one, so they
        // meet no common barrier: Unavailable at the timeout (still an error, not a wrong sum).
        const bool split_paths = c.mine == 4 && c.rank1 == 60;
        EXPECT_EQ(st[r].code(),
                  split_paths ? StatusCode::kUnavailable : StatusCode::kInvalidArgument)
            << c.what << " " << c.mine << " vs " << c.rank1 << " on " << p << " ranks, rank " << r
            << ": " << st[r];
        if (!split_paths) {
          EXPECT_NE(st[r].message().find("(counts differ between ranks)"), std::string::npos)
              << st[r];
        }
      }
    }
  }
}

}  // namespace
}  // namespace loom::comm
