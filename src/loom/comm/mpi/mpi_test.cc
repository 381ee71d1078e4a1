// The MPI backend under `mpirun -np 4`: the collectives and the interpreter against the
// sequential reference, split, checked mode and timeouts. Every rank runs every test in the
// same order; each test uses its own duplicated communicator.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "loom/base/strings.h"
#include "loom/comm/communicator.h"
#include "loom/comm/interpreter.h"
#include "loom/comm/mpi/mpi_transport.h"
#include "loom/comm/program/generators.h"
#include "loom/comm/shm_collectives.h"

namespace loom::comm {
namespace {

class MpiEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { LOOM_CHECK_OK(mpi::InitMpi()); }
  void TearDown() override { mpi::FinalizeMpi(); }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new MpiEnvironment);

std::unique_ptr<Communicator> World(int64_t timeout_ms = 20000) {
  auto t = mpi::WorldTransport();
  LOOM_CHECK_OK(t.status());
  auto c = std::make_unique<Communicator>(std::move(*t));
  c->set_timeout_ms(timeout_ms);
  return c;
}

double Value(int rank, size_t i) { return static_cast<double>((rank * 7 + static_cast<int>(i % 1000) * 3) % 9) - 3; }

TEST(Mpi, AllReduceEveryAlgorithmMatchesReference) {
  auto c = World();
  const int p = c->size();
  for (Algorithm a : {Algorithm::kRing, Algorithm::kHalvingDoubling, Algorithm::kRecursiveDoubling})
    for (size_t count : {size_t{0}, size_t{1}, size_t(p - 1), size_t(p + 1), size_t(20 * p - 17), size_t{1} << 18}) {
      std::vector<double> in(count), out(count);
      for (size_t i = 0; i < count; ++i) in[i] = Value(c->rank(), i);
      ASSERT_TRUE(c->AllReduce(in.data(), out.data(), count, DataType::kF64, ReduceOp::kSum,
                               {.algorithm = a}).ok());
      for (size_t i = 0; i < count; ++i) {
        double want = 0;
        for (int r = 0; r < p; ++r) want += Value(r, i);
        ASSERT_EQ(out[i], want) << "i=" << i << " algo=" << AlgorithmName(a);
      }
    }
}

TEST(Mpi, DataMovementCollectives) {
  auto c = World();
  const int p = c->size(), r = c->rank();
  const size_t n = 5;
  std::vector<int32_t> mine(n), all(n * static_cast<size_t>(p)), a2a_in(all.size()), a2a_out(all.size());
  for (size_t i = 0; i < n; ++i) mine[i] = r * 100 + static_cast<int32_t>(i);
  ASSERT_TRUE(c->AllGather(mine.data(), all.data(), n, DataType::kI32).ok());
  for (int q = 0; q < p; ++q)
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(all[static_cast<size_t>(q) * n + i], q * 100 + static_cast<int32_t>(i));
  for (int j = 0; j < p; ++j)
    for (size_t i = 0; i < n; ++i) a2a_in[static_cast<size_t>(j) * n + i] = r * 1000 + j * 10 + static_cast<int32_t>(i);
  for (Algorithm a : {Algorithm::kAuto, Algorithm::kPairwise, Algorithm::kLinear}) {
    std::fill(a2a_out.begin(), a2a_out.end(), -1);
    ASSERT_TRUE(c->AllToAll(a2a_in.data(), a2a_out.data(), n, DataType::kI32, {.algorithm = a}).ok());
    for (int i = 0; i < p; ++i)
      for (size_t k = 0; k < n; ++k)
        ASSERT_EQ(a2a_out[static_cast<size_t>(i) * n + k], i * 1000 + r * 10 + static_cast<int32_t>(k))
            << AlgorithmName(a);
  }
  std::vector<int32_t> b(n, r == p - 1 ? 42 : 0);
  ASSERT_TRUE(c->Broadcast(b.data(), n, DataType::kI32, p - 1).ok());
  for (int32_t v : b) ASSERT_EQ(v, 42);
  std::vector<int32_t> rs(n);
  ASSERT_TRUE(c->ReduceScatter(a2a_in.data(), rs.data(), n, DataType::kI32, ReduceOp::kMax).ok());
  for (size_t k = 0; k < n; ++k) ASSERT_EQ(rs[k], (p - 1) * 1000 + r * 10 + static_cast<int32_t>(k));
  ASSERT_TRUE(c->Barrier().ok());
}

TEST(Mpi, InterpreterRunsRingProgram) {
  auto c = World();
  const int p = c->size();
  auto prog = program::RingAllReduceProgram(p, 2);
  ASSERT_TRUE(prog.ok());
  const size_t count = static_cast<size_t>(p) * 2 * 100;
  std::vector<float> in(count), out(count), want(count);
  for (size_t i = 0; i < count; ++i) in[i] = static_cast<float>(Value(c->rank(), i));
  ASSERT_TRUE(c->AllReduce(in.data(), want.data(), count, DataType::kF32, ReduceOp::kSum).ok());
  ExecuteOptions o;
  o.slice_bytes = 64;
  Status s = Execute(*prog, *c, in.data(), out.data(), count, DataType::kF32, ReduceOp::kSum, o);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(out, want);
}

TEST(Mpi, SplitAndCheckedMode) {
  auto c = World();
  const int r = c->rank();
  auto sub = c->Split(r % 2, r);
  ASSERT_TRUE(sub.ok());
  int64_t v = r, sum = 0;
  ASSERT_TRUE((*sub)->AllReduce(&v, &sum, 1, DataType::kI64, ReduceOp::kSum).ok());
  int64_t want = 0;
  for (int q = r % 2; q < c->size(); q += 2) want += q;
  EXPECT_EQ(sum, want);
  c->set_checked(true);
  std::vector<float> x(8, 1.0f);
  Status s = c->AllReduce(x.data(), x.data(), r == 1 ? 5 : 4, DataType::kF32, ReduceOp::kSum);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("rank 1 passed count 5"), std::string::npos) << s;
}

// Visits `bytes` exchanged with rank ^ 1 and checks the grid, the order and the contents.
void CheckSendRecvVisit(Communicator& c, size_t bytes, int tag) {
  const int r = c.rank(), peer = r ^ 1;
  if (peer >= c.size()) return;
  std::vector<std::byte> send(bytes), recv(bytes);
  for (size_t i = 0; i < bytes; ++i) send[i] = static_cast<std::byte>((i + 3 * static_cast<size_t>(r)) & 0xff);
  size_t next = 0;
  bool ok = true;
  ASSERT_TRUE(
      c.transport()
          .SendRecvVisit(peer, send, peer, recv, tag,
                         [&](size_t off, std::span<const std::byte> piece) {
                           ok = ok && off == next && piece.data() == recv.data() + off &&
                                piece.size() == std::min(Transport::kVisitPieceBytes, bytes - off);
                           for (size_t i = 0; i < piece.size(); ++i)
                             ok = ok &&
                                  piece[i] == static_cast<std::byte>(
                                                  (off + i + 3 * static_cast<size_t>(peer)) & 0xff);
                           next = off + piece.size();
                         })
          .ok());
  EXPECT_TRUE(ok);
  EXPECT_EQ(next, bytes);
}

TEST(Mpi, SendRecvVisitVisitsTheLandedMessageOnTheGrid) {
  auto c = World();
  CheckSendRecvVisit(*c, 2 * Transport::kVisitPieceBytes + 7, 4);
}

// A message of several MiB: the grid holds over many pieces, and a message on the same tag
// right after must not be confused with it (FIFO per tag).
TEST(Mpi, SendRecvVisitOfSeveralMegabytesKeepsTheGridAndTheTagsOrder) {
  auto c = World();
  CheckSendRecvVisit(*c, (size_t{2} << 20) + Transport::kVisitPieceBytes + 7, 4);
  const int r = c->rank(), peer = r ^ 1;
  if (peer >= c->size()) return;
  int32_t mine = 100 + r, theirs = -1;
  ASSERT_TRUE(c->transport()
                  .SendRecv(peer, std::as_bytes(std::span(&mine, 1)), peer,
                            std::as_writable_bytes(std::span(&theirs, 1)), 4)
                  .ok());
  EXPECT_EQ(theirs, 100 + peer);
}

TEST(Mpi, MapPeerLandsThePeersBytes) {
  auto c = World();
  const int r = c->rank(), peer = r ^ 1;
  if (peer >= c->size()) return;
  std::vector<int32_t> mine(1000, r), landing(1000, -1);
  auto theirs = c->transport().MapPeer(peer, std::as_bytes(std::span(mine)),
                                       std::as_writable_bytes(std::span(landing)), 7);
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  EXPECT_EQ(theirs->data(), reinterpret_cast<const std::byte*>(landing.data()));
  EXPECT_EQ(landing, std::vector<int32_t>(1000, peer));
  EXPECT_TRUE(c->transport().UnmapPeer(peer, 7).ok());
}

// ReadPeer (one node, process_vm_readv allowed, as under mpirun here): any range of the peer's
// buffer, read where it lies; a size disagreement is refused on both sides; out-of-range reads
// are refused; LOOM_COMM_CMA=0 turns it off (can_read_peer false, FailedPrecondition).
TEST(Mpi, ReadPeerReadsAnyRangeOfThePeersBuffer) {
  auto c = World();
  const int r = c->rank(), peer = r ^ 1;
  Transport& t = c->transport();
  if (!t.can_read_peer()) GTEST_SKIP() << "process_vm_readv refused between these ranks";
  if (peer >= c->size()) return;
  std::vector<int32_t> mine(300000);
  for (size_t i = 0; i < mine.size(); ++i) mine[i] = r * 1000003 + static_cast<int32_t>(i);
  auto read = t.ReadPeer(peer, std::as_bytes(std::span(mine)), mine.size() * 4, 9);
  ASSERT_TRUE(read.ok()) << read.status();
  for (size_t lo : {size_t{0}, size_t{1}, size_t{77777}, mine.size() - 3}) {
    std::vector<int32_t> got(std::min<size_t>(100000, mine.size() - lo));
    ASSERT_TRUE((*read)(lo * 4, std::as_writable_bytes(std::span(got))).ok());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_EQ(got[i], peer * 1000003 + static_cast<int32_t>(lo + i)) << "at " << lo + i;
  }
  std::vector<std::byte> past(8);
  EXPECT_EQ((*read)(mine.size() * 4 - 4, past).code(), StatusCode::kOutOfRange);
  ASSERT_TRUE(t.UnmapPeer(peer, 9).ok());
  // Rank 0 of each pair expects one byte less than its peer offers: both refuse.
  auto bad = t.ReadPeer(peer, std::as_bytes(std::span(mine)), mine.size() * 4 - (r < peer), 10);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status();
}

TEST(Mpi, ReadPeerCanBeTurnedOff) {
  setenv("LOOM_COMM_CMA", "0", 1);
  auto c = World();
  unsetenv("LOOM_COMM_CMA");
  EXPECT_FALSE(c->transport().can_read_peer());
  int32_t x = 0;
  auto read = c->transport().ReadPeer(c->rank() ^ 1, std::as_bytes(std::span(&x, 1)), 4, 3);
  EXPECT_EQ(read.status().code(), StatusCode::kFailedPrecondition) << read.status();
}

// Element i of rank r, stored as `t` (small integers: exact in every type).
std::vector<std::byte> Elements(DataType t, int r, size_t n) {
  const size_t es = DataTypeSize(t);
  std::vector<std::byte> v(n * es);
  for (size_t i = 0; i < n; ++i) {
    const double x = Value(r, i) + (i % 5 == 0 ? 1 : 0);
    std::byte* d = v.data() + i * es;
    if (t == DataType::kF32) { float f = static_cast<float>(x); std::memcpy(d, &f, 4); }
    if (t == DataType::kF64) std::memcpy(d, &x, 8);
    if (t == DataType::kF16) { uint16_t h = FloatToHalf(static_cast<float>(x)); std::memcpy(d, &h, 2); }
    if (t == DataType::kBF16) { uint16_t h = FloatToBFloat16(static_cast<float>(x)); std::memcpy(d, &h, 2); }
    if (t == DataType::kI32) { int32_t k = static_cast<int32_t>(x); std::memcpy(d, &k, 4); }
    if (t == DataType::kI64) { int64_t k = static_cast<int64_t>(x); std::memcpy(d, &k, 8); }
  }
  return v;
}

// The shared-window path (mpirun puts all ranks on this host): auto picks it, and every
// collective x dtype x op x size, in chunks of 256 B (many rounds) and of the whole window,
// equals the sequential reference bit for bit (ranks reduced in order 0, 1, …, as shm does).
TEST(Mpi, SharedMemoryCollectivesMatchReference) {
  auto c = World();
  const int p = c->size(), r = c->rank();
  const size_t pc = static_cast<size_t>(p);
  ASSERT_TRUE(c->transport().shared_memory_available());
  EXPECT_EQ(c->Choose(CollectiveKind::kAllReduce, 1 << 20, {}), Algorithm::kShm);
  EXPECT_EQ(c->Choose(CollectiveKind::kAllToAll, 4, {}), Algorithm::kShm);
  EXPECT_EQ(c->Choose(CollectiveKind::kBroadcast, 4, {}), Algorithm::kBinomial);
  auto shm = c->transport().SharedMemory(size_t{256} << 10);
  ASSERT_TRUE(shm.ok()) << shm.status();
  for (size_t chunk : {size_t{256}, size_t{256} << 10}) {
    (*shm)->set_chunk_bytes(chunk);
    for (DataType t : {DataType::kF32, DataType::kF64, DataType::kF16, DataType::kBF16,
                       DataType::kI32, DataType::kI64})
      for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kProd, ReduceOp::kMin, ReduceOp::kMax, ReduceOp::kAvg})
        for (size_t n : {size_t{0}, size_t{1}, pc + 1, 20 * pc - 17, size_t{4099}}) {
          const size_t es = DataTypeSize(t);
          const std::vector<std::byte> in = Elements(t, r, n * pc);
          std::vector<std::byte> ar(n * es), rs(n * es), want_ar, want_rs;
          for (int q = 0; q < p; ++q) {
            std::vector<std::byte> x = Elements(t, q, n * pc);
            std::vector<std::byte> mine(x.begin() + static_cast<ptrdiff_t>(static_cast<size_t>(r) * n * es),
                                        x.begin() + static_cast<ptrdiff_t>((static_cast<size_t>(r) + 1) * n * es));
            x.resize(n * es);
            if (q == 0) { want_ar = x; want_rs = mine; continue; }
            ReduceInto(t, op, want_ar.data(), x.data(), n);
            ReduceInto(t, op, want_rs.data(), mine.data(), n);
          }
          FinishAverage(t, op, want_ar.data(), n, p);
          FinishAverage(t, op, want_rs.data(), n, p);
          const CollectiveOptions o{.algorithm = Algorithm::kShm};
          ASSERT_TRUE(c->AllReduce(in.data(), ar.data(), n, t, op, o).ok());
          ASSERT_TRUE(c->ReduceScatter(in.data(), rs.data(), n, t, op, o).ok());
          const std::string what = StrCat(DataTypeName(t), " ", ReduceOpName(op), " n=", n, " chunk=", chunk);
          ASSERT_EQ(ar, want_ar) << "allreduce " << what;
          ASSERT_EQ(rs, want_rs) << "reducescatter " << what;
          // Data movement: allgather of the first n elements, alltoall of all n·p.
          std::vector<std::byte> ag(n * es * pc), a2a(n * es * pc);
          ASSERT_TRUE(c->AllGather(in.data(), ag.data(), n, t, o).ok());
          ASSERT_TRUE(c->AllToAll(in.data(), a2a.data(), n, t, o).ok());
          for (int q = 0; q < p; ++q) {
            const std::vector<std::byte> x = Elements(t, q, n * pc);
            const size_t at = static_cast<size_t>(q) * n * es;
            ASSERT_EQ(0, std::memcmp(ag.data() + at, x.data(), n * es)) << "allgather " << what;
            ASSERT_EQ(0, std::memcmp(a2a.data() + at, x.data() + static_cast<size_t>(r) * n * es, n * es))
                << "alltoall " << what;
          }
        }
  }
  // In place, and the window growing to a larger call (collective on every rank).
  std::vector<double> big(size_t{3} << 18, 1.0 + r);
  ASSERT_TRUE(c->AllReduce(big.data(), big.data(), big.size(), DataType::kF64, ReduceOp::kSum).ok());
  EXPECT_EQ(big.front(), p * (p + 1) / 2.0);
  EXPECT_EQ(big.back(), p * (p + 1) / 2.0);
}

// Blocks of kShmDirectBytes and more: where process_vm_readv works between the ranks (it does
// under mpirun on this host) they are read straight from the peer's send buffer; both paths must
// move every byte (in place: shm_collectives_test). LOOM_COMM_CMA=0 keeps the staged copies.
// Run with the per-rank-count choice, direct allgather forced on and off, no direct reads, and
// 4004-byte blocks read directly (LOOM_COMM_DIRECT_MIN_BYTES=1KiB, direct allgather forced),
// and streamed (LOOM_COMM_STREAMING_MIN_BYTES=1: non-temporal own blocks, the allgather pushed
// with process_vm_writev, direct allgather forced).
TEST(Mpi, SharedMemoryLargeBlocksMoveEveryByte) {
  for (const char* mode : {"table", "direct", "staged", "no-cma", "small", "streamed"}) {
    SCOPED_TRACE(mode);
    const bool small = std::strcmp(mode, "small") == 0;
    const bool streamed = std::strcmp(mode, "streamed") == 0;
    if (small) setenv("LOOM_COMM_DIRECT_MIN_BYTES", "1KiB", 1);
    if (streamed) setenv("LOOM_COMM_STREAMING_MIN_BYTES", "1", 1);
    if (std::strcmp(mode, "direct") == 0 || small || streamed)
      setenv("LOOM_COMM_DIRECT_ALLGATHER", "1", 1);
    if (std::strcmp(mode, "staged") == 0) setenv("LOOM_COMM_DIRECT_ALLGATHER", "0", 1);
    if (std::strcmp(mode, "no-cma") == 0) setenv("LOOM_COMM_CMA", "0", 1);
    auto c = World();
    unsetenv("LOOM_COMM_DIRECT_ALLGATHER");
    unsetenv("LOOM_COMM_DIRECT_MIN_BYTES");
    unsetenv("LOOM_COMM_STREAMING_MIN_BYTES");
    unsetenv("LOOM_COMM_CMA");
    const int p = c->size(), r = c->rank();
    const size_t pc = static_cast<size_t>(p), block = (small ? 0 : kShmDirectBytes) + 4 * 1000 + 4;
    auto word = [](size_t from, size_t to, size_t i) {
      return static_cast<int32_t>(from * 1000003 + to * 7919 + i);
    };
    const size_t n = block / 4;
    std::vector<int32_t> mine(n), all(n * pc), ag(n * pc), a2a(n * pc);
    for (size_t i = 0; i < n; ++i)
      mine[i] = word(static_cast<size_t>(r), static_cast<size_t>(r), i);
    for (size_t j = 0; j < pc; ++j)
      for (size_t i = 0; i < n; ++i) all[j * n + i] = word(static_cast<size_t>(r), j, i);
    const CollectiveOptions o{.algorithm = Algorithm::kShm};
    ASSERT_TRUE(c->AllGather(mine.data(), ag.data(), n, DataType::kI32, o).ok());
    ASSERT_TRUE(c->AllToAll(all.data(), a2a.data(), n, DataType::kI32, o).ok());
    std::vector<int32_t> want_ag(n * pc), want_a2a(n * pc);
    for (size_t q = 0; q < pc; ++q)
      for (size_t i = 0; i < n; ++i) {
        want_ag[q * n + i] = word(q, q, i);
        want_a2a[q * n + i] = word(q, static_cast<size_t>(r), i);
      }
    EXPECT_TRUE(ag == want_ag) << "allgather on rank " << r;
    EXPECT_TRUE(a2a == want_a2a) << "alltoall on rank " << r;
  }
}

// Registered memory (Transport::AllocateShared): every rank maps every rank's segment, so the
// direct reads of send buffers inside it are memcpys. Alltoall, allgather (direct forced on,
// blocks from 4004 bytes) and the direct allreduce move the same bytes as from private memory:
// every rank's buffers registered (sizes differing per rank), then only the even ranks', and an
// allgather in place; ReadPeer reads any range of a registered buffer; FreeShared refuses a foreign
// pointer. Streamed too (LOOM_COMM_STREAMING_MIN_BYTES=1): the pushing allgather then writes into
// peers' registered buffers through this rank's mapping and into private ones with
// process_vm_writev.
void RegisteredMemoryMovesEveryByte(bool streamed) {
  setenv("LOOM_COMM_DIRECT_MIN_BYTES", "1KiB", 1);
  setenv("LOOM_COMM_DIRECT_ALLGATHER", "1", 1);
  setenv("LOOM_COMM_DIRECT_ALLREDUCE", "1", 1);
  if (streamed) setenv("LOOM_COMM_STREAMING_MIN_BYTES", "1", 1);
  auto c = World();
  unsetenv("LOOM_COMM_DIRECT_MIN_BYTES");
  unsetenv("LOOM_COMM_DIRECT_ALLGATHER");
  unsetenv("LOOM_COMM_DIRECT_ALLREDUCE");
  unsetenv("LOOM_COMM_STREAMING_MIN_BYTES");
  Transport& t = c->transport();
  if (!t.can_read_peer()) GTEST_SKIP() << "process_vm_readv refused between these ranks";
  const int p = c->size(), r = c->rank();
  const size_t pc = static_cast<size_t>(p), ur = static_cast<size_t>(r);
  auto word = [](size_t from, size_t to, size_t i) {
    return static_cast<int32_t>(from * 1000003 + to * 7919 + i);
  };
  const CollectiveOptions o{.algorithm = Algorithm::kShm};
  for (size_t n : {size_t{1001}, size_t{70001}})
    for (bool all_ranks : {true, false}) {
      const bool mine_registered = all_ranks || r % 2 == 0;
      // Send and receive buffers in one registration, with slack that differs per rank.
      const size_t slack = 16 * ur + 4;
      std::span<int32_t> reg;
      std::vector<int32_t> own;
      std::span<std::byte> bytes;
      if (mine_registered || all_ranks) {
        auto got = t.AllocateShared((3 * n * pc + slack) * 4);
        ASSERT_TRUE(got.ok()) << got.status();
        bytes = *got;
      } else {
        auto got = t.AllocateShared(0);  // collective: the odd ranks take none
        ASSERT_TRUE(got.ok()) << got.status();
        bytes = *got;
        own.resize(3 * n * pc + slack);
      }
      reg = mine_registered ? std::span(reinterpret_cast<int32_t*>(bytes.data()), bytes.size() / 4)
                            : std::span(own);
      std::span<int32_t> send = reg.subspan(slack, n * pc), recv = reg.subspan(slack + n * pc, n * pc);
      const std::string what = StrCat("n ", n, all_ranks ? " all ranks" : " even ranks", " r=", r);
      // Alltoall, then in place over the send buffer.
      for (size_t j = 0; j < pc; ++j)
        for (size_t i = 0; i < n; ++i) send[j * n + i] = word(ur, j, i);
      ASSERT_TRUE(c->AllToAll(send.data(), recv.data(), n, DataType::kI32, o).ok()) << what;
      for (size_t q = 0; q < pc; ++q)
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(recv[q * n + i], word(q, ur, i)) << what;
      // Allgather of the rank's first block.
      for (size_t i = 0; i < n; ++i) send[i] = word(ur, ur, i);
      ASSERT_TRUE(c->AllGather(send.data(), recv.data(), n, DataType::kI32, o).ok()) << what;
      for (size_t q = 0; q < pc; ++q)
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(recv[q * n + i], word(q, q, i)) << what;
      // In place: from the rank's own slot of the registered recv.
      std::fill(recv.begin(), recv.end(), -1);
      for (size_t i = 0; i < n; ++i) recv[ur * n + i] = word(ur, ur, i);
      Status in_place = c->AllGather(recv.data() + ur * n, recv.data(), n, DataType::kI32, o);
      ASSERT_TRUE(in_place.ok()) << in_place << " " << what;
      for (size_t q = 0; q < pc; ++q)
        for (size_t i = 0; i < n; ++i) ASSERT_EQ(recv[q * n + i], word(q, q, i)) << "in place " << what;
      // Allreduce (direct reads of inputs and reduced slices): exact integer sums.
      for (size_t i = 0; i < n * pc; ++i) send[i] = word(ur, 0, i) % 1000;
      ASSERT_TRUE(c->AllReduce(send.data(), recv.data(), n * pc, DataType::kI32, ReduceOp::kSum, o).ok());
      for (size_t i = 0; i < n * pc; ++i) {
        int32_t want = 0;
        for (size_t q = 0; q < pc; ++q) want += word(q, 0, i) % 1000;
        ASSERT_EQ(recv[i], want) << "allreduce at " << i << " " << what;
      }
      // ReadPeer of the registered send buffer, any range.
      const int peer = r ^ 1;
      if (peer < p) {
        for (size_t i = 0; i < n * pc; ++i) send[i] = word(ur, ur, i);
        auto read = t.ReadPeer(peer, std::as_bytes(send), n * pc * 4, 11);
        ASSERT_TRUE(read.ok()) << read.status();
        for (size_t lo : {size_t{0}, size_t{3}, n * pc - 5}) {
          std::vector<int32_t> got(std::min<size_t>(n, n * pc - lo));
          ASSERT_TRUE((*read)(lo * 4, std::as_writable_bytes(std::span(got))).ok());
          for (size_t i = 0; i < got.size(); ++i)
            ASSERT_EQ(got[i], word(static_cast<size_t>(peer), static_cast<size_t>(peer), lo + i)) << what;
        }
        ASSERT_TRUE(t.UnmapPeer(peer, 11).ok());
      }
      ASSERT_TRUE(t.FreeShared(bytes.data()).ok()) << what;
    }
  int32_t x = 0;
  EXPECT_EQ(t.FreeShared(reinterpret_cast<std::byte*>(&x)).code(), StatusCode::kInvalidArgument);
}

TEST(Mpi, RegisteredMemoryMovesEveryByte) {
  for (bool streamed : {false, true}) {
    SCOPED_TRACE(streamed ? "streamed" : "not streamed");
    RegisteredMemoryMovesEveryByte(streamed);
  }
}

TEST(Mpi, SharedMemoryCanBeTurnedOff) {
  setenv("LOOM_COMM_SHM", "0", 1);
  auto c = World();
  unsetenv("LOOM_COMM_SHM");
  EXPECT_FALSE(c->transport().shared_memory_available());
  EXPECT_EQ(c->Choose(CollectiveKind::kAllReduce, 1 << 20, {}), Algorithm::kRing);
  float x = 1;
  Status s = c->AllReduce(&x, &x, 1, DataType::kF32, ReduceOp::kSum, {.algorithm = Algorithm::kShm});
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s;
  EXPECT_NE(s.message().find("LOOM_COMM_SHM=0"), std::string::npos) << s;
  ASSERT_TRUE(c->AllReduce(&x, &x, 1, DataType::kF32, ReduceOp::kSum).ok());
  EXPECT_EQ(x, c->size());
}

// A rank that is late for a shared-memory collective: the others get Unavailable within the
// timeout instead of spinning forever; later communicators work.
TEST(Mpi, SharedMemoryStuckPeerIsUnavailable) {
  {
    auto c = World(300);
    float x = 1;
    ASSERT_TRUE(c->AllReduce(&x, &x, 1, DataType::kF32, ReduceOp::kSum).ok());  // makes the window
    if (c->rank() == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(800));
    } else {
      Status s = c->AllReduce(&x, &x, 1, DataType::kF32, ReduceOp::kSum);
      EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
      EXPECT_NE(s.message().find("rank 1 did not reach shared-memory barrier"), std::string::npos) << s;
      s = c->AllReduce(&x, &x, 1, DataType::kF32, ReduceOp::kSum);
      EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition) << s;
    }
  }
  auto fresh = World();
  float y = 2;
  ASSERT_TRUE(fresh->AllReduce(&y, &y, 1, DataType::kF32, ReduceOp::kSum).ok());
  EXPECT_EQ(y, 2.0f * fresh->size());
}

TEST(Mpi, StuckPeerIsUnavailable) {
  auto c = World(300);
  if (c->rank() == 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
  } else {
    int32_t x = 0;
    Status s = c->transport().Recv(1, 5, {reinterpret_cast<std::byte*>(&x), 4});
    EXPECT_EQ(s.code(), StatusCode::kUnavailable) << s;
    EXPECT_NE(s.message().find("did not complete within 300 ms"), std::string::npos) << s;
  }
  auto fresh = World();
  ASSERT_TRUE(fresh->Barrier().ok());
}

}  // namespace
}  // namespace loom::comm
