// ShmCollectives: allreduce, allgather, reduce-scatter, alltoall and a barrier for ranks that
// can all load and store one region of memory (on MPI: an MPI-3 shared window, when every rank
// of the communicator is on one node). Data moves by plain copies through that memory with a
// few synchronisations per round, instead of point-to-point messages that a library copies
// twice (into its shared FIFO and out of it).
//
// Layout: rank q owns one segment (SegmentBytes(buffer_bytes), the same addresses being
// readable by every rank through `segments[q]`): a control page holding q's arrival counter
// and the addresses q publishes for direct reads and writes (set_peer_reader: its send buffer;
// its recv buffer for the direct allreduce and the pushing allgather, with that allgather's
// success mark) and the small allreduce's flagged lines (kShmFlaggedBytes),
// then two data buffers of
// `buffer_bytes` used in alternate rounds. A round moves up to chunk_bytes() of each rank's data:
//   allreduce      copy-in, barrier, rank r reduces slice r of every buffer into rank 0's buffer
//                  (in rank order 0, 1, …, so the sum is the sequential reference's), barrier,
//                  copy-out; chunks up to kShmSmallBytes: copy-in, barrier, every rank reduces
//                  the whole chunk (one barrier).
//   allgather      copy-in, barrier, copy every rank's piece out.
//   reducescatter  copy-in the P blocks' pieces, barrier, rank r reduces its piece of each.
//   alltoall       copy-in the pieces of the P - 1 other blocks, barrier, rank r copies piece r
//                  of each (its own block goes straight from send to recv).
// With two buffers, the barrier of round i + 1 also proves every rank finished reading round
// i's buffers, so rounds need no closing barrier.
//
// The barrier: each rank stores its arrival count (release) and waits until every counter
// reaches it (acquire), spinning and then yielding the core: 4096 spins when every rank can have
// a core, 64 when ranks outnumber cores. A wait longer than the timeout returns Unavailable naming
// the missing rank; the object is then broken (broken() == true, later calls FailedPrecondition),
// as the ranks' counters no longer agree.
//
// Thread-safety: one object per rank, used by one thread at a time.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "loom/base/status.h"
#include "loom/comm/dtype.h"

namespace loom::comm {

inline constexpr size_t kShmControlBytes = 4096;
// Allreduce chunks up to this size are reduced whole by every rank (one barrier per round).
inline constexpr size_t kShmSmallBytes = size_t{16} << 10;
// Allreduce calls up to this size skip the barrier: each rank writes its data into a 64-byte
// line of its control page, 56 bytes of data and then the call's arrival count (release), and
// reads every rank's line once its count arrives (acquire): one cache-line transfer per peer
// instead of the barrier's counter and then the data one after the other (NCCL's LL idea).
// One line only: with 2-19 lines (up to 1 KiB) it lost to the staged path in back-to-back
// calls, the reader's polling pulling lines the writer was still writing (docs/benchmarks.md).
inline constexpr size_t kShmFlaggedBytes = 56;
// Allgather/alltoall blocks from this size on are read directly from the peer when a
// PeerReader is set (one copy instead of two); below it the staged copies' latency wins. At 2
// ranks the direct read (own block copied, barrier, one process_vm_readv, barrier) beats the
// staged copy-in, barrier, copy-out from smaller blocks on (docs/benchmarks.md, "direct-read
// threshold at 2 ranks"): the staged copy-out pulls every line from the other core's cache.
inline constexpr size_t kShmDirectBytes = size_t{64} << 10;
struct DirectMinBytesRow {
  int max_ranks;  // the first row with max_ranks >= P decides; none: kShmDirectBytes
  size_t allgather, alltoall;  // per rank / per block
};
inline constexpr DirectMinBytesRow kDirectMinBytesTable[] = {{2, size_t{8} << 10, size_t{16} << 10}};
// Allgather through direct reads up to this many ranks. Each staged piece is copied in once
// and out by all P ranks, so its extra copy weighs 1/P of the traffic; a direct read pays the
// kernel's page pinning per reader. Measured on 2 cores (docs/benchmarks.md, "direct
// allgather by rank count"): at 2 ranks the one copy wins, at 4 and 8 the staged copy.
inline constexpr int kDirectAllGatherMaxRanks = 2;
// The pushing allgather's piece: copied into the own `recv`, then written to every peer while
// still in L2 (2 ranks, 16-64 MiB blocks: 1 MiB pieces beat 256 KiB and 4 MiB; fewer, larger
// process_vm_writev calls pay less page pinning).
inline constexpr size_t kShmPushPieceBytes = size_t{1} << 20;
// Allreduce through direct reads (DirectAllReduce): up to this many ranks, from this many bytes.
// Each rank reduces its slice window by window, reading the peers' pieces of it into a cache-
// sized scratch, then reads the peers' reduced slices: at 2 ranks 3.5 bytes of memory traffic
// per byte against the staged path's 5.5 (docs/benchmarks.md, "direct allreduce").
inline constexpr int kDirectAllReduceMaxRanks = 2;
inline constexpr size_t kDirectAllReduceBytes = size_t{1} << 20;

// LOOM_COMM_SHM: "0" turns the shared-memory collectives off (every backend that has them);
// LOOM_COMM_SHM_BYTES: the largest data buffer per rank (two per rank; default 4 MiB, at least
// 64 KiB). Read by the transports once, when they are made.
bool ShmEnabledByEnvironment();
size_t ShmMaxBufferFromEnvironment();
// The data buffer a transport sets up for a call moving `bytes_per_round` per rank: the next
// power of two from 64 KiB, at most `max_buffer`.
size_t ShmBufferFor(size_t bytes_per_round, size_t max_buffer);

class ShmCollectives {
 public:
  static size_t SegmentBytes(size_t buffer_bytes) { return kShmControlBytes + 2 * buffer_bytes; }

  // segments[q]: rank q's segment, 64-byte aligned; the control pages must be zero on every
  // rank before any rank's first call.
  ShmCollectives(int rank, std::vector<std::byte*> segments, size_t buffer_bytes);

  int rank() const { return rank_; }
  int size() const { return static_cast<int>(segments_.size()); }
  size_t buffer_bytes() const { return buffer_bytes_; }
  bool broken() const { return broken_; }

  // Bytes of each rank's data one round moves (default buffer_bytes; tests use small values
  // to run many rounds). Clamped to [MinChunk(), buffer_bytes]. Every rank must use the same
  // value. MinChunk() = max(64, 8·size()): a piece of every block holds a whole element.
  void set_chunk_bytes(size_t bytes);
  size_t chunk_bytes() const { return chunk_bytes_; }
  size_t MinChunk() const { return std::max<size_t>(64, 8 * segments_.size()); }
  // How long one barrier waits before Unavailable; <= 0: forever.
  void set_timeout_ms(int64_t ms) { timeout_ms_ = ms; }

  // Direct reads from a peer's private memory (on Linux: cross-memory attach,
  // process_vm_readv), given an address the peer published. With a reader set, allgather and
  // alltoall blocks of at least kShmDirectBytes travel in one copy, from the peer's send buffer
  // straight into this rank's recv, instead of two (into the shared buffer and out again), as
  // OpenMPI's single-copy transfers do. Every rank must set a reader or none (the protocol
  // differs); the MPI backend probes that reads work between all ranks before it sets one.
  // Allgather takes the reader only with set_direct_allgather(true).
  using PeerReader = std::function<Status(int peer, const void* remote, void* local, size_t bytes)>;
  void set_peer_reader(PeerReader reader) { reader_ = std::move(reader); }
  // A PeerReader over Linux process_vm_readv, peer q being process pids[q]; nullptr where the
  // system has no such call.
  static PeerReader CrossMemoryReader(std::vector<int> pids);
  // Direct writes into a peer's private memory (process_vm_writev), the push half of the one-
  // copy allgather: with a writer set too, an allgather whose ranks' buffers together exceed
  // the last-level cache pushes its block to every peer, kShmPushPieceBytes at a time, right
  // after copying that piece into its own `recv`, so the kernel reads it from this core's cache
  // instead of memory (a peer pulling it would read it from memory). Same rules as the reader:
  // every rank sets one or none, after the MPI backend's probe.
  // Whether rank q is still there (the thread backend knows at once when a rank's function has
  // returned): a barrier waiting on a rank that is gone returns Unavailable without waiting out
  // the timeout. Unset: only the timeout.
  using PeerAlive = std::function<bool(int peer)>;
  void set_peer_alive(PeerAlive alive) { alive_ = std::move(alive); }
  using PeerWriter = std::function<Status(int peer, const void* local, void* remote, size_t bytes)>;
  void set_peer_writer(PeerWriter writer) { writer_ = std::move(writer); }
  static PeerWriter CrossMemoryWriter(std::vector<int> pids);
  // Direct allgather / alltoall blocks whose ranks' buffers together (sends and receives)
  // exceed this many bytes stream from memory (streaming_copy.h: non-temporal copies, and the
  // allgather's push): by default LastLevelCacheBytes(); 0 restores it (tests force small
  // values; LOOM_COMM_STREAMING_MIN_BYTES on MPI). Every rank must use the same.
  void set_streaming_min_bytes(size_t bytes) { streaming_min_bytes_ = bytes; }
  // The smallest allgather (per rank) / alltoall (per block) block read directly: per
  // kDirectMinBytesTable; set_direct_min_bytes(n > 0) overrides both (tests, A/B runs;
  // LOOM_COMM_DIRECT_MIN_BYTES on MPI), 0 restores the table. Every rank must use the same.
  void set_direct_min_bytes(size_t bytes) { direct_min_bytes_ = bytes; }
  size_t DirectMinBytes(bool alltoall) const;
  // Whether allgather takes the reader for blocks of `bytes_per_rank` (>= DirectMinBytes):
  // by default up to kDirectAllGatherMaxRanks; set_direct_allgather(true/false) forces it
  // (tests, A/B runs; LOOM_COMM_DIRECT_ALLGATHER on MPI). Every rank must use the same value.
  void set_direct_allgather(bool on) { direct_allgather_ = on ? 1 : 0; }
  bool DirectAllGather(size_t bytes_per_rank) const;
  // The same for allreduce (kDirectAllReduceMaxRanks, kDirectAllReduceBytes; forced: every
  // size >= kShmDirectBytes).
  void set_direct_allreduce(bool on) { direct_allreduce_ = on ? 1 : 0; }
  bool DirectAllReduce(size_t bytes) const;

  Status Barrier();
  // The shapes of Communicator (communicator.h); avg reduces as sum (the caller divides).
  Status AllReduce(const void* send, void* recv, size_t count, DataType dtype, ReduceOp op);
  Status AllGather(const void* send, void* recv, size_t bytes_per_rank);
  Status ReduceScatter(const void* send, void* recv, size_t count, DataType dtype, ReduceOp op);
  Status AllToAll(const void* send, void* recv, size_t bytes_per_block);

 private:
  std::byte* Buffer(int q) const;  // rank q's data buffer of the current round
  uint64_t* Counter(int q) const;
  uint64_t* Published(int q) const;  // the address rank q published for direct reads
  std::byte* FlaggedLine(int q) const;  // rank q's flagged line of the current call
  Status CheckUsable() const;  // FailedPrecondition once a barrier has timed out
  // One-copy allgather (peer_stride 0: every peer's whole `send`) or alltoall (peer_stride =
  // block: this rank's block of every peer's `send`) through the PeerReader.
  Status DirectExchange(const void* send, void* recv, size_t block, bool alltoall);
  // DirectExchange's allgather through the PeerWriter (set_peer_writer above); `own_slot`:
  // `in` is this rank's block of `out` (in place).
  Status PushAllGather(const std::byte* in, std::byte* out, size_t block, bool own_slot);
  bool Streams(size_t footprint) const;  // set_streaming_min_bytes
  // Allreduce of up to kShmFlaggedBytes through one flagged line per rank (kShmFlaggedBytes
  // above); rank order kept, so bitwise the staged path's.
  Status FlaggedAllReduce(const void* send, void* recv, size_t count, DataType dtype, ReduceOp op);
  // Waits until `*flag` reaches `target` (acquire), spinning and then yielding; Unavailable
  // naming rank q after the timeout (the object is then broken). `*deadline`: 0 until the
  // first yield of the call sets it (shared by the call's waits).
  Status WaitFor(const uint64_t* flag, uint64_t target, int q, int64_t* deadline);
  // One-copy allreduce through the PeerReader (rank order kept: bitwise the staged path's).
  Status DirectReduce(const void* send, void* recv, size_t count, DataType dtype, ReduceOp op);
  uint64_t* PublishedRecv(int q) const;  // rank q's recv address (DirectReduce, PushAllGather)
  uint64_t* Signature(int q, uint64_t target) const;  // rank q's call signature (Barrier)
  uint64_t* Pushed(int q) const;  // the last PushAllGather barrier rank q wrote every block by

  int rank_;
  std::vector<std::byte*> segments_;
  size_t buffer_bytes_, chunk_bytes_;
  int64_t timeout_ms_ = 60000;
  uint64_t arrivals_ = 0;  // barriers this rank has entered
  uint64_t round_ = 0;     // selects the buffer
  uint64_t flagged_calls_ = 0;        // selects the flagged line (FlaggedAllReduce)
  // Set by a call before its first barrier, which publishes it and compares every rank's: a
  // rank that passed another count (unchecked mode) makes every rank return InvalidArgument.
  uint64_t call_signature_ = 0;
  uint32_t spins_before_yield_ = 64;  // set by the constructor from ranks vs cores
  bool broken_ = false;
  PeerReader reader_;
  PeerWriter writer_;
  PeerAlive alive_;
  size_t streaming_min_bytes_ = 0;  // 0: LastLevelCacheBytes()
  int direct_allgather_ = -1;  // -1: the table; 0 / 1: forced
  int direct_allreduce_ = -1;
  size_t direct_min_bytes_ = 0;  // 0: kDirectMinBytesTable
  std::vector<std::byte> staging_;  // a private copy of `send` when it overlaps `recv`
};

}  // namespace loom::comm
