// Transport: the point-to-point layer every backend implements (threads, MPI, NCCL) and every
// collective algorithm, the program interpreter and Adasum are written against.
//
// Semantics (the same on every backend):
//  - Messages between a (sender, receiver, tag) triple are received in the order they were
//    sent (MPI's non-overtaking rule). Tags are in [0, kMaxTag].
//  - Isend/Irecv start an operation on a caller-owned buffer that must stay valid until Wait /
//    Test reports completion or Cancel returns. A receive must be posted with exactly the size
//    that was sent; a mismatch fails both sides with InvalidArgument.
//  - Wait fails with Unavailable when the operation does not complete within the timeout
//    (a dead or stuck peer), naming the peer, tag and size; the operation is then cancelled.
//  - SendRecvVisit hands the received bytes to a visitor piece by piece (see there), so a caller
//    can reduce over the data while it is in cache; the piece grid is the same on every backend.
//  - Split is collective over all ranks of the transport (like MPI_Comm_split): ranks with the
//    same color form a new transport ordered by (key, old rank); color < 0 gets nullptr.
//
// Thread-safety: one Transport object is used by one thread (its rank). Different ranks'
// objects may be used concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "loom/base/status.h"

namespace loom::comm {

class ShmCollectives;  // shm_collectives.h

inline constexpr int kMaxTag = 32767;  // the smallest MPI_TAG_UB the standard allows

enum class MemoryKind { kHost, kDevice };

// A handle to a started send or receive. Default-constructed = nothing to wait for.
struct Request {
  int64_t id = -1;
  bool valid() const { return id >= 0; }
};

class Transport {
 public:
  virtual ~Transport() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "thread", "mpi", "nccl"
  virtual MemoryKind memory_kind() const { return MemoryKind::kHost; }

  virtual StatusOr<Request> Isend(int peer, int tag, std::span<const std::byte> data) = 0;
  virtual StatusOr<Request> Irecv(int peer, int tag, std::span<std::byte> data) = 0;

  // Blocks until done (OK), failed, or the timeout passed (Unavailable). Resets `request`.
  virtual Status Wait(Request& request) = 0;
  // true when done (and resets `request`), false when still pending; errors as Wait.
  virtual StatusOr<bool> Test(Request& request) = 0;
  // Abandons a pending operation; afterwards its buffer is no longer touched.
  virtual void Cancel(Request& request) = 0;

  // Waits for all; on the first error cancels the rest and returns it.
  Status WaitAll(std::span<Request> requests);

  virtual StatusOr<std::unique_ptr<Transport>> Split(int color, int key) = 0;

  // How long Wait blocks before reporting Unavailable. Default 60 s.
  void set_timeout_ms(int64_t ms) { timeout_ms_ = ms; }
  int64_t timeout_ms() const { return timeout_ms_; }

  // Blocking helpers.
  Status Send(int peer, int tag, std::span<const std::byte> data);
  Status Recv(int peer, int tag, std::span<std::byte> data);
  // Sends to `dst` and receives from `src` at the same time.
  Status SendRecv(int dst, std::span<const std::byte> send, int src, std::span<std::byte> recv,
                  int tag);

  // Receive with a visitor: as SendRecv, and visit(offset, piece) is called on the rank's own
  // thread once for every piece of `recv` after that piece has landed, in order, each exactly
  // once, before this returns OK. Pieces are [k·kVisitPieceBytes, (k+1)·kVisitPieceBytes)
  // clipped to the buffer, on every backend (so reductions in the visitor sum in the same order
  // everywhere). The default lands the whole message, then visits it (a blocked pass after the
  // receive); the thread backend visits each piece right after copying it, while it is in
  // cache. On an error the visitor may have seen only some pieces. Host memory only.
  using PieceVisitor = std::function<void(size_t offset, std::span<const std::byte> piece)>;
  static constexpr size_t kVisitPieceBytes = size_t{128} << 10;
  virtual Status SendRecvVisit(int dst, std::span<const std::byte> send, int src,
                               std::span<std::byte> recv, int tag, const PieceVisitor& visit);
  // Exchange by reference, for an algorithm that reads the peer's bytes more than once: both
  // sides call MapPeer(peer, mine, landing, tag) and get a readable span of the peer's `mine`
  // (landing.size() bytes), valid until both have called UnmapPeer(peer, tag). Until then
  // neither side writes its `mine` nor, where the span is `landing`, that. Shared-memory
  // backends (threads) return the peer's buffer itself, no copy, and UnmapPeer is a pair
  // synchronisation (each side is done reading the other); the default is SendRecv into
  // `landing` (returned) and an UnmapPeer that does nothing. Sizes must agree as for SendRecv.
  virtual StatusOr<std::span<const std::byte>> MapPeer(int peer, std::span<const std::byte> mine,
                                                       std::span<std::byte> landing, int tag);
  virtual Status UnmapPeer(int peer, int tag);
  // Exchange by address for a reader that takes the peer's bytes piece by piece, on backends
  // that can read a peer's memory without mapping it (MPI ranks on one node with cross-memory
  // attach, process_vm_readv): no landing copy, the reader copies each piece it needs into its
  // own (cache-sized) scratch. can_read_peer() is the same on every rank of a transport. Both
  // sides call ReadPeer(peer, mine, their_bytes, tag) and get a function that copies
  // [offset, offset + dst.size()) of the peer's `mine` into `dst`, valid until both have called
  // UnmapPeer(peer, tag) (then a pair synchronisation); until then neither writes its `mine`.
  // Sizes must agree both ways (their_bytes = the peer's mine.size()), else InvalidArgument on
  // both sides. Default: FailedPrecondition.
  using PeerReadFn = std::function<Status(size_t offset, std::span<std::byte> dst)>;
  virtual bool can_read_peer() const { return false; }
  virtual StatusOr<PeerReadFn> ReadPeer(int peer, std::span<const std::byte> mine,
                                        size_t their_bytes, int tag);

  // Optional capability: collectives through memory every rank of this transport can load and
  // store (shm_collectives.h). shared_memory_available() is local and cheap (the MPI backend
  // answers true when all ranks share a node, LOOM_COMM_SHM is not 0 and no earlier setup
  // failed); SharedMemory() is collective on its first call (it may allocate, e.g. an MPI
  // shared window) and returns the object, sized for `bytes_per_round` bytes per rank where
  // it can, or an error that every rank gets alike. Default: unavailable.
  virtual bool shared_memory_available() const { return false; }
  virtual StatusOr<ShmCollectives*> SharedMemory(size_t bytes_per_round);

  // Opt-in registered memory (as MPI_Alloc_mem or NCCL's user-buffer registration): collective
  // (every rank calls it, each with its own size), returns `bytes` of memory that every rank of
  // this transport has mapped, so collectives whose send buffers lie in it read them with a
  // plain memcpy instead of a system call per read (MPI on one node: process_vm_readv). Any
  // memory works as before; only where it comes from changes the cost. Valid until
  // FreeShared(pointer) (collective, every rank its own pointer) or the transport's end.
  // Default: FailedPrecondition (the MPI backend has it when all ranks share a node and
  // direct reads work).
  virtual StatusOr<std::span<std::byte>> AllocateShared(size_t bytes);
  virtual Status FreeShared(std::byte* pointer);

  // visit(offset, piece) over `data` on the grid above, from piece `first_offset` on.
  static void VisitPieces(std::span<const std::byte> data, const PieceVisitor& visit,
                          size_t first_offset = 0);

 protected:
  Status CheckPeerAndTag(int peer, int tag, const char* what) const;

 private:
  int64_t timeout_ms_ = 60000;
};

}  // namespace loom::comm
