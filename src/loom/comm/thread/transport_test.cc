// Thread transport point-to-point: MapPeer reads in place; SendRecvVisit's contract (every piece of the receive buffer
// visited once, in order, on the grid, after it landed, on the receiving rank's own thread,
// whichever rank posts first) and the receiver-driven copy (a send that meets a receiver
// blocked in Wait is copied by that receiver; cancelling such a send neither hangs nor tears
// the message).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

#include "loom/base/strings.h"
#include "loom/comm/communicator.h"
#include "loom/comm/thread/thread_transport.h"

namespace loom::comm {
namespace {

constexpr size_t kPiece = Transport::kVisitPieceBytes;

std::byte Pattern(int rank, size_t i) { return static_cast<std::byte>((i * 131 + static_cast<size_t>(rank) * 7 + i / 251) & 0xff); }

// Ranks pair up as (r, p-1-r); `late` sleeps before its exchange so the other rank is already
// blocked in Wait (or -1: nobody waits on purpose).
Status ExchangeAndVisit(Communicator& c, size_t bytes, int late) {
  if (c.rank() == late) std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const int peer = c.size() - 1 - c.rank();
  std::vector<std::byte> send(bytes), recv(bytes, std::byte{0});
  for (size_t i = 0; i < bytes; ++i) send[i] = Pattern(c.rank(), i);
  const auto me = std::this_thread::get_id();
  size_t next = 0;
  std::string bad;
  auto visit = [&](size_t off, std::span<const std::byte> piece) {
    if (!bad.empty()) return;
    if (off != next || piece.data() != recv.data() + off ||
        piece.size() != std::min(kPiece, bytes - off) || std::this_thread::get_id() != me)
      bad = StrCat("piece at ", off, " (", piece.size(), " bytes) breaks the grid, order or thread");
    for (size_t i = 0; i < piece.size() && bad.empty(); ++i)
      if (piece[i] != Pattern(peer, off + i)) bad = StrCat("byte ", off + i, " not landed when visited");
    next = off + piece.size();
  };
  LOOM_RETURN_IF_ERROR(c.transport().SendRecvVisit(peer, send, peer, recv, 9, visit));
  if (!bad.empty()) return InternalError(bad);
  if (next != bytes) return InternalError(StrCat("visited ", next, " of ", bytes, " bytes"));
  for (size_t i = 0; i < bytes; ++i)
    if (recv[i] != Pattern(peer, i)) return InternalError(StrCat("byte ", i, " wrong after return"));
  return OkStatus();
}

TEST(ThreadTransport, SendRecvVisitSeesEveryPieceOnceInOrderAfterItLanded) {
  for (int p : {2, 4})
    for (int late : {-1, 0, 1})
      for (size_t bytes : {size_t{0}, size_t{1}, kPiece - 1, kPiece, kPiece + 1, 3 * kPiece + 5}) {
        Status s = thread::RunRanks(p, [&](Communicator& c) { return ExchangeAndVisit(c, bytes, late); });
        EXPECT_TRUE(s.ok()) << s << " p=" << p << " late=" << late << " bytes=" << bytes;
      }
}

TEST(ThreadTransport, CancellingASendThatMetAWaitingReceiverDeliversItWhole) {
  const size_t bytes = 4 * kPiece + 3;
  Status s = thread::RunRanks(2, [&](Communicator& c) -> Status {
    std::vector<std::byte> buf(bytes);
    Transport& t = c.transport();
    if (c.rank() == 0) {
      LOOM_RETURN_IF_ERROR(t.Recv(1, 3, buf));  // blocked in Wait when the send arrives
      for (size_t i = 0; i < bytes; ++i)
        if (buf[i] != Pattern(1, i)) return InternalError(StrCat("byte ", i));
      return OkStatus();
    }
    for (size_t i = 0; i < bytes; ++i) buf[i] = Pattern(1, i);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    LOOM_ASSIGN_OR_RETURN(Request r, t.Isend(0, 3, buf));
    t.Cancel(r);  // waits for the receiver's copy: afterwards `buf` is free
    std::fill(buf.begin(), buf.end(), std::byte{0});
    return OkStatus();
  }, {.timeout_ms = 10000});
  EXPECT_TRUE(s.ok()) << s;
}

// MapPeer on threads: each rank reads the peer's bytes where they lie (not a copy in
// `landing`), valid until both unmap; a size disagreement fails both ranks with InvalidArgument.
TEST(ThreadTransport, MapPeerReadsThePeersBufferInPlaceUntilBothUnmap) {
  const size_t bytes = kPiece + 9;
  std::vector<std::vector<std::byte>> buffers(2, std::vector<std::byte>(bytes));
  Status s = thread::RunRanks(2, [&](Communicator& c) -> Status {
    Transport& t = c.transport();
    const int peer = 1 - c.rank();
    std::vector<std::byte>& mine = buffers[static_cast<size_t>(c.rank())];
    for (size_t i = 0; i < bytes; ++i) mine[i] = Pattern(c.rank(), i);
    std::vector<std::byte> landing(bytes);
    LOOM_ASSIGN_OR_RETURN(std::span<const std::byte> theirs, t.MapPeer(peer, mine, landing, 5));
    if (theirs.data() != buffers[static_cast<size_t>(peer)].data() || theirs.size() != bytes)
      return InternalError("MapPeer did not return the peer's buffer");
    for (size_t i = 0; i < bytes; ++i)
      if (theirs[i] != Pattern(peer, i)) return InternalError(StrCat("byte ", i));
    LOOM_RETURN_IF_ERROR(t.UnmapPeer(peer, 5));
    std::fill(mine.begin(), mine.end(), std::byte{0});  // allowed once both have unmapped
    // Rank 1 expects one byte more than rank 0 shares.
    std::vector<std::byte> wrong(c.rank() == 1 ? bytes + 1 : bytes);
    auto bad = t.MapPeer(peer, mine, wrong, 6);
    if (bad.ok() || bad.status().code() != StatusCode::kInvalidArgument)
      return InternalError("size mismatch not refused: " + bad.status().ToString());
    return OkStatus();
  }, {.timeout_ms = 10000});
  EXPECT_TRUE(s.ok()) << s;
}

// Registered memory is an MPI-backend feature; threads share all memory anyway.
TEST(ThreadTransport, RegisteredMemoryIsFailedPrecondition) {
  Status s = thread::RunRanks(2, [](Communicator& c) -> Status {
    auto got = c.transport().AllocateShared(64);
    if (got.status().code() != StatusCode::kFailedPrecondition)
      return InternalError(StrCat("AllocateShared: ", got.status().ToString()));
    if (c.transport().FreeShared(nullptr).code() != StatusCode::kFailedPrecondition)
      return InternalError("FreeShared did not refuse");
    return OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace loom::comm
