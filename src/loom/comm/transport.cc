// Backend-independent parts of Transport (transport.h).
#include "loom/comm/transport.h"

#include <algorithm>

#include "loom/base/strings.h"

namespace loom::comm {

Status Transport::WaitAll(std::span<Request> requests) {
  Status first;
  for (Request& r : requests) {
    if (!first.ok()) {
      Cancel(r);
      continue;
    }
    Status s = Wait(r);
    if (!s.ok()) first = s;
  }
  return first;
}

Status Transport::Send(int peer, int tag, std::span<const std::byte> data) {
  LOOM_ASSIGN_OR_RETURN(Request r, Isend(peer, tag, data));
  return Wait(r);
}

Status Transport::Recv(int peer, int tag, std::span<std::byte> data) {
  LOOM_ASSIGN_OR_RETURN(Request r, Irecv(peer, tag, data));
  return Wait(r);
}

Status Transport::SendRecv(int dst, std::span<const std::byte> send, int src,
                           std::span<std::byte> recv, int tag) {
  Request rs[2];
  auto rr = Irecv(src, tag, recv);
  if (!rr.ok()) return rr.status();
  rs[0] = *rr;
  auto sr = Isend(dst, tag, send);
  if (!sr.ok()) {
    Cancel(rs[0]);
    return sr.status();
  }
  rs[1] = *sr;
  return WaitAll(rs);
}

Status Transport::SendRecvVisit(int dst, std::span<const std::byte> send, int src,
                                std::span<std::byte> recv, int tag, const PieceVisitor& visit) {
  LOOM_RETURN_IF_ERROR(SendRecv(dst, send, src, recv, tag));
  VisitPieces(recv, visit);
  return OkStatus();
}

StatusOr<std::span<const std::byte>> Transport::MapPeer(int peer, std::span<const std::byte> mine,
                                                        std::span<std::byte> landing, int tag) {
  LOOM_RETURN_IF_ERROR(SendRecv(peer, mine, peer, landing, tag));
  return std::span<const std::byte>(landing);
}

Status Transport::UnmapPeer(int, int) { return OkStatus(); }

StatusOr<Transport::PeerReadFn> Transport::ReadPeer(int peer, std::span<const std::byte>, size_t,
                                                    int) {
  return FailedPreconditionError(StrCat("rank ", rank(), ": the ", backend(), " transport cannot "
                                        "read rank ", peer, "'s memory (can_read_peer() is false)"));
}

void Transport::VisitPieces(std::span<const std::byte> data, const PieceVisitor& visit,
                            size_t first_offset) {
  for (size_t off = first_offset; off < data.size(); off += kVisitPieceBytes)
    visit(off, data.subspan(off, std::min(kVisitPieceBytes, data.size() - off)));
}

StatusOr<std::span<std::byte>> Transport::AllocateShared(size_t) {
  return FailedPreconditionError(StrCat("the ", backend(), " transport has no registered memory"));
}

Status Transport::FreeShared(std::byte*) {
  return FailedPreconditionError(StrCat("the ", backend(), " transport has no registered memory"));
}

StatusOr<ShmCollectives*> Transport::SharedMemory(size_t) {
  return FailedPreconditionError(StrCat("the ", backend(), " transport has no shared-memory collectives"));
}

Status Transport::CheckPeerAndTag(int peer, int tag, const char* what) const {
  if (peer < 0 || peer >= size())
    return InvalidArgumentError(StrCat("rank ", rank(), ": ", what, " peer ", peer,
                                       " outside [0, ", size(), ")"));
  if (tag < 0 || tag > kMaxTag)
    return InvalidArgumentError(StrCat("rank ", rank(), ": ", what, " tag ", tag,
                                       " outside [0, ", kMaxTag, "]"));
  return OkStatus();
}

}  // namespace loom::comm
