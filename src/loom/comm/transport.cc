// Backend-independent parts of Transport (transport.h).
#include "loom/comm/transport.h"

#include <algorithm>
#include <vector>

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
  if (send.size() <= kLandingBytes && recv.size() <= kLandingBytes) {
    LOOM_RETURN_IF_ERROR(SendRecv(dst, send, src, recv, tag));
    VisitPieces(recv, visit);
    return OkStatus();
  }
  // Both directions travel as kLandingBytes messages on the one tag; FIFO per (src, dst, tag)
  // matches them in order. Each landing is visited as soon as it has arrived, while it is
  // still in this core's cache, instead of after the whole message (a second pass from
  // memory). kLandingBytes is a multiple of kVisitPieceBytes, so the piece grid is unchanged.
  static_assert(kLandingBytes % kVisitPieceBytes == 0);
  const size_t num_recv = (recv.size() + kLandingBytes - 1) / kLandingBytes;
  const size_t num_send = (send.size() + kLandingBytes - 1) / kLandingBytes;
  std::vector<Request> requests;  // receives, then sends
  requests.reserve(num_recv + num_send);
  auto cancel_all = [&] {
    for (Request& r : requests) Cancel(r);
  };
  // Posts the landings of one direction; on an error cancels everything posted so far.
  auto post = [&](auto start, auto buffer, size_t count) -> Status {
    for (size_t k = 0; k < count; ++k) {
      const size_t off = k * kLandingBytes;
      auto r = start(buffer.subspan(off, std::min(kLandingBytes, buffer.size() - off)));
      if (!r.ok()) {
        cancel_all();
        return r.status();
      }
      requests.push_back(*r);
    }
    return OkStatus();
  };
  LOOM_RETURN_IF_ERROR(
      post([&](std::span<std::byte> b) { return Irecv(src, tag, b); }, recv, num_recv));
  LOOM_RETURN_IF_ERROR(
      post([&](std::span<const std::byte> b) { return Isend(dst, tag, b); }, send, num_send));
  for (size_t k = 0; k < num_recv; ++k) {
    Status s = Wait(requests[k]);
    if (!s.ok()) {
      cancel_all();
      return s;
    }
    const size_t end = std::min((k + 1) * kLandingBytes, recv.size());
    VisitPieces(recv.first(end), visit, k * kLandingBytes);
  }
  return WaitAll(std::span<Request>(requests).subspan(num_recv));
}

StatusOr<std::span<const std::byte>> Transport::MapPeer(int peer, std::span<const std::byte> mine,
                                                        std::span<std::byte> landing, int tag) {
  LOOM_RETURN_IF_ERROR(SendRecv(peer, mine, peer, landing, tag));
  return std::span<const std::byte>(landing);
}

Status Transport::UnmapPeer(int, int) { return OkStatus(); }

void Transport::VisitPieces(std::span<const std::byte> data, const PieceVisitor& visit,
                            size_t first_offset) {
  for (size_t off = first_offset; off < data.size(); off += kVisitPieceBytes)
    visit(off, data.subspan(off, std::min(kVisitPieceBytes, data.size() - off)));
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
