// Collectives through memory shared by all ranks (shm_collectives.h).
#include "loom/comm/shm_collectives.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <utility>

#if defined(__linux__)
#include <cerrno>
#include <cstring>

#include <sys/uio.h>
#endif

#include "loom/base/check.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/comm/algorithms.h"
#include "loom/comm/streaming_copy.h"

namespace loom::comm {

bool ShmEnabledByEnvironment() {
  const char* v = std::getenv("LOOM_COMM_SHM");
  return v == nullptr || std::strcmp(v, "0") != 0;
}

size_t ShmMaxBufferFromEnvironment() {
  const char* v = std::getenv("LOOM_COMM_SHM_BYTES");
  if (v != nullptr) {
    StatusOr<uint64_t> b = ParseByteSize(v, "LOOM_COMM_SHM_BYTES");
    if (b.ok()) return std::max<size_t>(*b, size_t{64} << 10);
  }
  return size_t{4} << 20;
}

size_t ShmBufferFor(size_t bytes_per_round, size_t max_buffer) {
  size_t want = size_t{64} << 10;
  while (want < std::min(bytes_per_round, max_buffer)) want *= 2;
  return std::min(want, max_buffer);
}

namespace {
// The control page, one 64-byte line per word so no two ranks' stores share a line: the
// arrival counter (offset 0), the published send and recv addresses, the pushing allgather's
// mark, the flagged allreduce's two lines, then the call signatures' two slots.
constexpr size_t kLineBytes = 64;
constexpr size_t kPublishedOffset = 1 * kLineBytes;
constexpr size_t kPublishedRecvOffset = 2 * kLineBytes;
constexpr size_t kPushedOffset = 3 * kLineBytes;
constexpr size_t kFlaggedOffset = 4 * kLineBytes;
// Each call's signature (collective, bytes, type, reduction), published at its first barrier
// in the slot of that barrier's parity: a peer is at most one barrier ahead, so it never
// overwrites the slot being compared.
constexpr size_t kSignatureOffset = 6 * kLineBytes;
static_assert(kSignatureOffset + kLineBytes <= kShmControlBytes);

// 1 (so never 0) | bytes | collective | type | reduction.
uint64_t CallSignature(int collective, uint64_t bytes, DataType dtype, ReduceOp op) {
  return (uint64_t{1} << 63) | ((bytes & ((uint64_t{1} << 51) - 1)) << 12) |
         (static_cast<uint64_t>(collective) << 8) | (static_cast<uint64_t>(dtype) << 4) |
         static_cast<uint64_t>(op);
}
uint64_t SignatureBytes(uint64_t sig) { return (sig >> 12) & ((uint64_t{1} << 51) - 1); }
constexpr int kSigAllReduce = 1, kSigAllGather = 2, kSigReduceScatter = 3, kSigAllToAll = 4;
}  // namespace

ShmCollectives::ShmCollectives(int rank, std::vector<std::byte*> segments, size_t buffer_bytes)
    : rank_(rank), segments_(std::move(segments)), buffer_bytes_(buffer_bytes),
      chunk_bytes_(buffer_bytes) {
  LOOM_CHECK(rank_ >= 0 && rank_ < size()) << "rank " << rank_ << " of " << size();
  LOOM_CHECK(buffer_bytes_ >= MinChunk()) << "shared buffers of " << buffer_bytes_ << " bytes";
  // A rank per core: the peer runs while we spin, and its answer comes in well under a
  // microsecond, so spin for a while before paying a sched_yield system call (which cost
  // back-to-back small allreduces at 2 ranks most of their time). More ranks than cores: the
  // rank we wait for may need our core, so yield almost at once.
  const unsigned cores = std::thread::hardware_concurrency();
  spins_before_yield_ = cores != 0 && static_cast<unsigned>(size()) <= cores ? 4096 : 64;
}

void ShmCollectives::set_chunk_bytes(size_t bytes) {
  chunk_bytes_ = std::clamp<size_t>(bytes, MinChunk(), buffer_bytes_);
}

std::byte* ShmCollectives::Buffer(int q) const {
  return segments_[static_cast<size_t>(q)] + kShmControlBytes + (round_ & 1) * buffer_bytes_;
}

uint64_t* ShmCollectives::Counter(int q) const {
  return reinterpret_cast<uint64_t*>(segments_[static_cast<size_t>(q)]);
}

#if defined(__linux__)
namespace {
// Moves `bytes` between this process's `local` and `remote` in process `pid` (peer q) with
// cross-memory attach, looping because the kernel may move less than asked.
Status CrossMemoryMove(int peer, int pid, char* local, uintptr_t remote, size_t bytes, bool write) {
  while (bytes > 0) {
    iovec l{local, bytes};
    iovec r{reinterpret_cast<void*>(remote), bytes};
    const ssize_t moved =
        write ? process_vm_writev(pid, &l, 1, &r, 1, 0) : process_vm_readv(pid, &l, 1, &r, 1, 0);
    if (moved <= 0) {
      const int e = moved < 0 ? errno : EIO;
      return UnavailableError(
          StrCat(write ? "writing " : "reading ", bytes,
                 write ? " bytes into rank " : " bytes of rank ", peer, " (pid ", pid, ") with ",
                 write ? "process_vm_writev: " : "process_vm_readv: ", std::strerror(e)));
    }
    local += moved;
    remote += static_cast<uintptr_t>(moved);
    bytes -= static_cast<size_t>(moved);
  }
  return OkStatus();
}
}  // namespace
#endif

ShmCollectives::PeerReader ShmCollectives::CrossMemoryReader(std::vector<int> pids) {
#if defined(__linux__)
  return
      [pids = std::move(pids)](int peer, const void* remote, void* local, size_t bytes) -> Status {
        return CrossMemoryMove(peer, pids[static_cast<size_t>(peer)], static_cast<char*>(local),
                               reinterpret_cast<uintptr_t>(remote), bytes, /*write=*/false);
      };
#else
  (void)pids;
  return nullptr;
#endif
}

ShmCollectives::PeerWriter ShmCollectives::CrossMemoryWriter(std::vector<int> pids) {
#if defined(__linux__)
  return
      [pids = std::move(pids)](int peer, const void* local, void* remote, size_t bytes) -> Status {
        // process_vm_writev only reads the local iovec's bytes.
        return CrossMemoryMove(peer, pids[static_cast<size_t>(peer)],
                               const_cast<char*>(static_cast<const char*>(local)),
                               reinterpret_cast<uintptr_t>(remote), bytes, /*write=*/true);
      };
#else
  (void)pids;
  return nullptr;
#endif
}

uint64_t* ShmCollectives::Published(int q) const {
  return reinterpret_cast<uint64_t*>(segments_[static_cast<size_t>(q)] + kPublishedOffset);
}

uint64_t* ShmCollectives::PublishedRecv(int q) const {
  return reinterpret_cast<uint64_t*>(segments_[static_cast<size_t>(q)] + kPublishedRecvOffset);
}

uint64_t* ShmCollectives::Pushed(int q) const {
  return reinterpret_cast<uint64_t*>(segments_[static_cast<size_t>(q)] + kPushedOffset);
}

bool ShmCollectives::DirectAllReduce(size_t bytes) const {
  if (!reader_ || bytes < kShmDirectBytes) return false;
  if (direct_allreduce_ >= 0) return direct_allreduce_ == 1;
  return size() <= kDirectAllReduceMaxRanks && bytes >= kDirectAllReduceBytes;
}

Status ShmCollectives::DirectReduce(const void* send, void* recv, size_t count, DataType dtype,
                                    ReduceOp op) {
  const size_t es = DataTypeSize(dtype), pc = static_cast<size_t>(size());
  const auto* in = static_cast<const std::byte*>(send);
  auto* out = static_cast<std::byte*>(recv);
  // Peers read this rank's `in` outside its own slice while it writes that slice of `out`,
  // and its `out` slice after the middle barrier: in place is safe, a partial overlap is not.
  if (in != out && in < out + count * es && out < in + count * es) {
    staging_.assign(in, in + count * es);
    in = staging_.data();
  }
  std::atomic_ref<uint64_t>(*Published(rank_))
      .store(reinterpret_cast<uintptr_t>(in), std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(*PublishedRecv(rank_))
      .store(reinterpret_cast<uintptr_t>(out), std::memory_order_relaxed);
  LOOM_RETURN_IF_ERROR(Barrier());
  auto remote = [&](size_t q, bool recv_side) {
    uint64_t* word = recv_side ? PublishedRecv(static_cast<int>(q)) : Published(static_cast<int>(q));
    return static_cast<uintptr_t>(std::atomic_ref<uint64_t>(*word).load(std::memory_order_relaxed));
  };
  Status first;
  // This rank's slice, window by window: acc = x_0, then acc op= x_1, … in rank order (the
  // sequential reference's order); the window stays in cache across the P reads.
  const algo::Block mine = algo::BlockOf(count, size(), rank_);
  const size_t window = std::max<size_t>(1, (size_t{256} << 10) / es);
  std::span<std::byte> scratch = algo::ThreadScratch(std::min(window, mine.size) * es, 3);
  // In place, acc = x_0 overwrites this rank's own input first: keep the window aside.
  const bool keep_own = in == out && rank_ != 0;
  std::span<std::byte> own = algo::ThreadScratch(keep_own ? std::min(window, mine.size) * es : 0, 2);
  for (size_t w = mine.offset; w < mine.offset + mine.size && first.ok(); w += window) {
    const size_t n = std::min(window, mine.offset + mine.size - w);
    std::byte* acc = out + w * es;
    if (keep_own) std::memcpy(own.data(), in + w * es, n * es);
    for (size_t q = 0; q < pc && first.ok(); ++q) {
      const std::byte* x = keep_own ? own.data() : in + w * es;
      if (q != static_cast<size_t>(rank_)) {
        std::byte* land = q == 0 ? acc : scratch.data();
        first = reader_(static_cast<int>(q), reinterpret_cast<const void*>(remote(q, false) + w * es),
                        land, n * es);
        x = land;
      }
      if (q == 0) {
        if (x != acc) std::memcpy(acc, x, n * es);
      } else if (first.ok()) {
        ReduceInto(dtype, op, acc, x, n);
      }
    }
  }
  LOOM_RETURN_IF_ERROR(Barrier());  // every slice is reduced
  for (size_t q = 0; q < pc && first.ok(); ++q) {
    if (q == static_cast<size_t>(rank_)) continue;
    const algo::Block b = algo::BlockOf(count, size(), static_cast<int>(q));
    first = reader_(static_cast<int>(q),
                    reinterpret_cast<const void*>(remote(q, true) + b.offset * es),
                    out + b.offset * es, b.size * es);
  }
  // Nobody returns (and reuses its buffers) while a peer may still read them.
  LOOM_RETURN_IF_ERROR(Barrier());
  return first;
}

bool ShmCollectives::Streams(size_t footprint) const {
  return footprint > (streaming_min_bytes_ > 0 ? streaming_min_bytes_ : LastLevelCacheBytes());
}

Status ShmCollectives::DirectExchange(const void* send, void* recv, size_t block, bool alltoall) {
  const size_t pc = static_cast<size_t>(size()), r = static_cast<size_t>(rank_);
  const auto* in = static_cast<const std::byte*>(send);
  auto* out = static_cast<std::byte*>(recv);
  const size_t in_bytes = alltoall ? block * pc : block;
  // Peers read `in` (or write `recv`) while this rank writes `recv` (or reads `in`): where the
  // two overlap (other than an allgather's own slot, which nobody else touches), work from a
  // private copy instead.
  const bool own_slot = !alltoall && in == out + r * block;
  if (!own_slot && in < out + block * pc && out < in + in_bytes) {
    staging_.assign(in, in + in_bytes);
    in = staging_.data();
  }
  // Every rank's buffers together outgrow the cache: copy the own block with non-temporal
  // stores, and an allgather pushes each piece to the peers right after copying it, while it
  // is still in this core's cache (streaming_copy.h).
  const bool streams = Streams(pc * (in_bytes + block * pc));
  if (streams && !alltoall && writer_) return PushAllGather(in, out, block, own_slot);
  std::atomic_ref<uint64_t>(*Published(rank_))
      .store(reinterpret_cast<uintptr_t>(in), std::memory_order_relaxed);
  // The own block first, while peers arrive (nobody reads `out`).
  const size_t from = alltoall ? r * block : 0;
  if (in + from != out + r * block) {
    if (streams)
      StreamingCopy(out + r * block, in + from, block);
    else
      std::memmove(out + r * block, in + from, block);
  }
  LOOM_RETURN_IF_ERROR(Barrier());  // publishes the address (release/acquire in the barrier)
  Status first;
  // Peers in rotated order (r + 1, r + 2, …), so the P - 1 readers do not all start on rank 0's
  // pages: on the AMD guest, 4 and 8 ranks, 1-4 MiB alltoall 1.02-1.19x OpenMPI against
  // 0.91-1.02 in rank order, 16-64 MiB a tie (docs/benchmarks.md).
  for (size_t i = 1; i < pc; ++i) {
    const size_t q = (r + i) % pc;
    const auto remote = static_cast<uintptr_t>(
        std::atomic_ref<uint64_t>(*Published(static_cast<int>(q))).load(std::memory_order_relaxed));
    Status s = reader_(static_cast<int>(q), reinterpret_cast<const void*>(remote + from),
                       out + q * block, block);
    if (!s.ok() && first.ok()) first = s;
  }
  // Every peer has finished reading this rank's `in` before anyone returns (and may reuse it).
  LOOM_RETURN_IF_ERROR(Barrier());
  return first;
}

Status ShmCollectives::PushAllGather(const std::byte* in, std::byte* out, size_t block,
                                     bool own_slot) {
  const size_t pc = static_cast<size_t>(size()), r = static_cast<size_t>(rank_);
  std::atomic_ref<uint64_t>(*PublishedRecv(rank_))
      .store(reinterpret_cast<uintptr_t>(out), std::memory_order_relaxed);
  LOOM_RETURN_IF_ERROR(Barrier());  // every rank's `recv` is known, and nobody else writes it
  std::vector<uintptr_t> remote(pc);
  for (size_t q = 0; q < pc; ++q)
    remote[q] =
        static_cast<uintptr_t>(std::atomic_ref<uint64_t>(*PublishedRecv(static_cast<int>(q)))
                                   .load(std::memory_order_relaxed));
  Status first;
  for (size_t off = 0; off < block; off += kShmPushPieceBytes) {
    const size_t n = std::min(kShmPushPieceBytes, block - off);
    if (!own_slot) StreamingCopy(out + r * block + off, in + off, n);
    // Peers from r + 1 on, so they are not all written by everyone at once.
    for (size_t i = 1; i < pc && first.ok(); ++i) {
      const size_t q = (r + i) % pc;
      first = writer_(static_cast<int>(q), in + off,
                      reinterpret_cast<void*>(remote[q] + r * block + off), n);
    }
  }
  // Every peer's writes into this rank's `recv` are done before anyone returns. A rank whose
  // writes all succeeded marks the closing barrier's number as pushed (release: the barrier's
  // store orders it), so a rank some peer failed to write into says so instead of returning
  // its `recv` with a hole. A later call cannot overwrite the mark before this call's readers
  // checked it: its next mark comes after the next call's first barrier.
  if (first.ok())
    std::atomic_ref<uint64_t>(*Pushed(rank_)).store(arrivals_ + 1, std::memory_order_relaxed);
  LOOM_RETURN_IF_ERROR(Barrier());
  if (!first.ok()) return first;
  for (size_t q = 0; q < pc; ++q)
    if (std::atomic_ref<uint64_t>(*Pushed(static_cast<int>(q))).load(std::memory_order_relaxed) !=
        arrivals_)
      return UnavailableError(
          StrCat("rank ", rank_, ": rank ", q,
                 " could not write its allgather block into this rank's buffer"));
  return OkStatus();
}

Status ShmCollectives::WaitFor(const uint64_t* flag, uint64_t target, int q, int64_t* deadline) {
  // atomic_ref needs a non-const object; the flag is only loaded.
  std::atomic_ref<uint64_t> counter(*const_cast<uint64_t*>(flag));
  for (uint32_t spins = 0; counter.load(std::memory_order_acquire) < target; ++spins) {
    if (spins < spins_before_yield_) continue;
    // Ranks may outnumber cores: let the rank we wait for run. The clock is read only from
    // here on (the deadline starts at the first yield), keeping it off the fast path.
    std::this_thread::yield();
    if ((spins & 63) != 0) continue;
    if (alive_ && !alive_(q) && counter.load(std::memory_order_acquire) < target) {
      broken_ = true;
      return UnavailableError(StrCat("rank ", rank_, ": rank ", q,
                                     " has exited before shared-memory barrier ", target));
    }
    if (timeout_ms_ <= 0) continue;
    const int64_t now = NowNanos();
    if (*deadline == 0) *deadline = now + timeout_ms_ * 1000000;
    if (now > *deadline) {
      broken_ = true;
      return UnavailableError(StrCat("rank ", rank_, ": rank ", q,
                                     " did not reach shared-memory "
                                     "barrier ",
                                     target, " within ", timeout_ms_,
                                     " ms: the peer is dead, stuck or in another call"));
    }
  }
  return OkStatus();
}

Status ShmCollectives::CheckUsable() const {
  if (!broken_) return OkStatus();
  return FailedPreconditionError(StrCat("rank ", rank_, ": an earlier shared-memory barrier "
                                        "timed out; this communicator can no longer be used"));
}

uint64_t* ShmCollectives::Signature(int q, uint64_t target) const {
  return reinterpret_cast<uint64_t*>(segments_[static_cast<size_t>(q)] + kSignatureOffset) +
         (target & 1);
}

Status ShmCollectives::Barrier() {
  LOOM_RETURN_IF_ERROR(CheckUsable());
  const uint64_t target = ++arrivals_;
  const uint64_t sig = std::exchange(call_signature_, 0);  // the call's first barrier only
  if (sig != 0)
    std::atomic_ref<uint64_t>(*Signature(rank_, target)).store(sig, std::memory_order_relaxed);
  std::atomic_ref<uint64_t>(*Counter(rank_)).store(target, std::memory_order_release);
  int64_t deadline = 0;  // set at the first yield
  for (int q = 0; q < size(); ++q) LOOM_RETURN_IF_ERROR(WaitFor(Counter(q), target, q, &deadline));
  if (sig == 0) return OkStatus();
  // Ranks that disagree on the call would otherwise run different numbers of rounds over each
  // other's buffers: a silent wrong answer in unchecked mode. Every rank compares every rank,
  // so all of them stop here, at the same barrier.
  for (int q = 0; q < size(); ++q) {
    const uint64_t theirs =
        std::atomic_ref<uint64_t>(*Signature(q, target)).load(std::memory_order_relaxed);
    if (theirs == sig) continue;
    broken_ = true;
    return SignatureBytes(theirs) != SignatureBytes(sig)
               ? InvalidArgumentError(StrCat("rank ", rank_, ": shared-memory collective: rank ", q,
                                             " passed ", SignatureBytes(theirs),
                                             " bytes, this rank ", SignatureBytes(sig),
                                             " (counts differ between ranks)"))
               : InvalidArgumentError(StrCat("rank ", rank_, ": shared-memory collective: rank ", q,
                                             " called a different collective, type or reduction"));
  }
  return OkStatus();
}

namespace {
constexpr size_t kLineData = kLineBytes - sizeof(uint64_t);  // the count takes the last 8 bytes
static_assert(kShmFlaggedBytes <= kLineData, "a flagged allreduce fits one line");
// The flagged lines (kFlaggedOffset) are used in alternate calls. Nothing else writes there,
// so a line's count only ever holds an earlier call's count.
}  // namespace

std::byte* ShmCollectives::FlaggedLine(int q) const {
  return segments_[static_cast<size_t>(q)] + kFlaggedOffset + (flagged_calls_ & 1) * kLineBytes;
}

Status ShmCollectives::FlaggedAllReduce(const void* send, void* recv, size_t count, DataType dtype,
                                        ReduceOp op) {
  LOOM_RETURN_IF_ERROR(CheckUsable());
  const size_t bytes = count * DataTypeSize(dtype);
  // The arrival count doubles as the line's flag: every rank's count advances by one here as at
  // a barrier, so the next barrier's target is the same on every rank. The lines alternate by
  // call, so a peer still reading the previous call's line is never overwritten: it wrote its
  // line for the call before, which we waited for, only after reading ours of two calls ago.
  // The line's word is (count << 8) | bytes: the byte count lets every rank see a peer that
  // passed another count (unchecked mode) instead of reducing past its data.
  static_assert(kShmFlaggedBytes < 256, "the byte count fits the flag word's low byte");
  const uint64_t target = ++arrivals_;
  std::byte* mine = FlaggedLine(rank_);
  std::memcpy(mine, send, bytes);
  std::atomic_ref<uint64_t>(*reinterpret_cast<uint64_t*>(mine + kLineData))
      .store((target << 8) | bytes, std::memory_order_release);
  int64_t deadline = 0;  // set at the first yield
  // Every rank's line (64-byte aligned) reduced in rank order 0, 1, ... into `acc` (recv may be
  // send: this rank's data is read back from its own line).
  alignas(16) std::byte acc[kShmFlaggedBytes];  // aligned for ReduceInto of every type
  for (int q = 0; q < size(); ++q) {
    const std::byte* line = FlaggedLine(q);
    const auto* word = reinterpret_cast<const uint64_t*>(line + kLineData);
    LOOM_RETURN_IF_ERROR(WaitFor(word, target << 8, q, &deadline));
    const uint64_t theirs =
        std::atomic_ref<uint64_t>(*const_cast<uint64_t*>(word)).load(std::memory_order_acquire) &
        0xff;
    if (theirs != bytes) {
      broken_ = true;
      return InvalidArgumentError(StrCat("rank ", rank_, ": shared-memory allreduce: rank ", q,
                                         " passed ", theirs, " bytes, this rank ", bytes,
                                         " (counts differ between ranks)"));
    }
    if (q == 0)
      std::memcpy(acc, line, bytes);
    else
      ReduceInto(dtype, op, acc, line, count);
  }
  std::memcpy(recv, acc, bytes);
  ++flagged_calls_;
  return OkStatus();
}

Status ShmCollectives::AllReduce(const void* send, void* recv, size_t count, DataType dtype,
                                 ReduceOp op) {
  const size_t es = DataTypeSize(dtype);
  if (DirectAllReduce(count * es)) {
    call_signature_ = CallSignature(kSigAllReduce, count * es, dtype, op);
    return DirectReduce(send, recv, count, dtype, op);
  }
  if (count > 0 && count * es <= kShmFlaggedBytes)
    return FlaggedAllReduce(send, recv, count, dtype, op);
  const size_t per_round = std::max<size_t>(1, chunk_bytes_ / es);
  const auto* in = static_cast<const std::byte*>(send);
  auto* out = static_cast<std::byte*>(recv);
  call_signature_ = CallSignature(kSigAllReduce, count * es, dtype, op);
  for (size_t off = 0; off < count; off += per_round, ++round_) {
    const size_t n = std::min(per_round, count - off);
    std::memcpy(Buffer(rank_), in + off * es, n * es);
    LOOM_RETURN_IF_ERROR(Barrier());
    std::byte* dst = out + off * es;
    if (n * es <= kShmSmallBytes) {
      // Every rank reduces the whole chunk itself: one barrier instead of two.
      std::memcpy(dst, Buffer(0), n * es);
      for (int q = 1; q < size(); ++q) ReduceInto(dtype, op, dst, Buffer(q), n);
      continue;
    }
    // Rank r reduces its slice of every buffer into rank 0's buffer, then all copy it out.
    const algo::Block b = algo::BlockOf(n, size(), rank_);
    std::byte* acc = Buffer(0) + b.offset * es;
    for (int q = 1; q < size(); ++q) ReduceInto(dtype, op, acc, Buffer(q) + b.offset * es, b.size);
    LOOM_RETURN_IF_ERROR(Barrier());
    std::memcpy(dst, Buffer(0), n * es);
  }
  call_signature_ = 0;  // a call of zero rounds had no barrier to consume it
  return OkStatus();
}

size_t ShmCollectives::DirectMinBytes(bool alltoall) const {
  if (direct_min_bytes_ > 0) return direct_min_bytes_;
  for (const DirectMinBytesRow& row : kDirectMinBytesTable)
    if (size() <= row.max_ranks) return alltoall ? row.alltoall : row.allgather;
  return kShmDirectBytes;
}

bool ShmCollectives::DirectAllGather(size_t bytes_per_rank) const {
  if (!reader_ || bytes_per_rank < DirectMinBytes(/*alltoall=*/false)) return false;
  if (direct_allgather_ >= 0) return direct_allgather_ == 1;
  return size() <= kDirectAllGatherMaxRanks;
}

Status ShmCollectives::AllGather(const void* send, void* recv, size_t bytes_per_rank) {
  call_signature_ = CallSignature(kSigAllGather, bytes_per_rank, DataType::kI32, ReduceOp::kSum);
  if (DirectAllGather(bytes_per_rank))
    return DirectExchange(send, recv, bytes_per_rank, /*alltoall=*/false);
  const auto* in = static_cast<const std::byte*>(send);
  auto* out = static_cast<std::byte*>(recv);
  for (size_t off = 0; off < bytes_per_rank; off += chunk_bytes_, ++round_) {
    const size_t n = std::min(chunk_bytes_, bytes_per_rank - off);
    std::memcpy(Buffer(rank_), in + off, n);
    LOOM_RETURN_IF_ERROR(Barrier());
    for (int q = 0; q < size(); ++q)
      std::memcpy(out + static_cast<size_t>(q) * bytes_per_rank + off, Buffer(q), n);
  }
  call_signature_ = 0;  // a call of zero rounds had no barrier to consume it
  return OkStatus();
}

namespace {
// Bytes of each of `parts` blocks one round moves when a rank's round holds all parts.
size_t PiecePerBlock(size_t chunk_bytes, int parts, size_t granule) {
  size_t piece = chunk_bytes / static_cast<size_t>(parts);
  if (piece >= 64) piece &= ~size_t{63};  // keep the pieces cache-line aligned
  return std::max(granule, piece / granule * granule);
}
}  // namespace

Status ShmCollectives::ReduceScatter(const void* send, void* recv, size_t count, DataType dtype,
                                     ReduceOp op) {
  const size_t es = DataTypeSize(dtype);
  const size_t per_round = PiecePerBlock(chunk_bytes_, size(), es) / es;
  const auto* in = static_cast<const std::byte*>(send);
  auto* out = static_cast<std::byte*>(recv);
  call_signature_ = CallSignature(kSigReduceScatter, count * es, dtype, op);
  for (size_t off = 0; off < count; off += per_round, ++round_) {
    const size_t n = std::min(per_round, count - off);
    for (int q = 0; q < size(); ++q)
      std::memcpy(Buffer(rank_) + static_cast<size_t>(q) * n * es,
                  in + (static_cast<size_t>(q) * count + off) * es, n * es);
    LOOM_RETURN_IF_ERROR(Barrier());
    const size_t mine = static_cast<size_t>(rank_) * n * es;
    std::byte* dst = out + off * es;
    std::memcpy(dst, Buffer(0) + mine, n * es);
    for (int q = 1; q < size(); ++q) ReduceInto(dtype, op, dst, Buffer(q) + mine, n);
  }
  call_signature_ = 0;  // a call of zero rounds had no barrier to consume it
  return OkStatus();
}

Status ShmCollectives::AllToAll(const void* send, void* recv, size_t bytes_per_block) {
  call_signature_ = CallSignature(kSigAllToAll, bytes_per_block, DataType::kI32, ReduceOp::kSum);
  if (reader_ && bytes_per_block >= DirectMinBytes(/*alltoall=*/true))
    return DirectExchange(send, recv, bytes_per_block, /*alltoall=*/true);
  const size_t per_round = PiecePerBlock(chunk_bytes_, size(), 1);
  const auto* in = static_cast<const std::byte*>(send);
  auto* out = static_cast<std::byte*>(recv);
  for (size_t off = 0; off < bytes_per_block; off += per_round, ++round_) {
    const size_t n = std::min(per_round, bytes_per_block - off);
    // The rank's own block goes straight from send to recv: one copy, not two.
    for (int q = 0; q < size(); ++q)
      if (q != rank_)
        std::memcpy(Buffer(rank_) + static_cast<size_t>(q) * n,
                    in + static_cast<size_t>(q) * bytes_per_block + off, n);
    LOOM_RETURN_IF_ERROR(Barrier());
    for (int q = 0; q < size(); ++q) {
      const size_t at = static_cast<size_t>(q) * bytes_per_block + off;
      std::memcpy(out + at, q == rank_ ? in + at : Buffer(q) + static_cast<size_t>(rank_) * n, n);
    }
  }
  call_signature_ = 0;  // a call of zero rounds had no barrier to consume it
  return OkStatus();
}

}  // namespace loom::comm
