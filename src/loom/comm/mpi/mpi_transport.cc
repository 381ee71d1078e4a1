// The MPI backend (mpi_transport.h).
#include "loom/comm/mpi/mpi_transport.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <unistd.h>

#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/comm/shm_collectives.h"

namespace loom::comm::mpi {
namespace {

Status MpiError(int code, const char* call) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  return InternalError(StrCat(call, " failed: ", std::string(text, static_cast<size_t>(len))));
}

#define LOOM_MPI_CHECK(call)                                 \
  do {                                                       \
    int loom_mpi_rc_ = (call);                               \
    if (loom_mpi_rc_ != MPI_SUCCESS) return MpiError(loom_mpi_rc_, #call); \
  } while (0)

constexpr size_t kMaxMessage = size_t{1} << 30;  // Horovod's HOROVOD_ADASUM_MPI_CHUNK_SIZE
bool g_initialised_here = false;

struct PendingOp {
  std::vector<MPI_Request> requests;
  bool is_send = false;
  int peer = 0, tag = 0;
  size_t bytes = 0;
};

// An A/B override of a table-driven choice: -1 unset (the table), 0 off, 1 on.
int ForcedChoice(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == 0) return -1;
  return std::strcmp(v, "0") == 0 ? 0 : 1;
}

// Whether every rank of `comm` shares this rank's node (collective).
bool AllOnOneNode(MPI_Comm comm, int size) {
  MPI_Comm node;
  if (MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node) != MPI_SUCCESS)
    return false;
  int node_size = 0;
  MPI_Comm_size(node, &node_size);
  MPI_Comm_free(&node);
  int same = node_size == size ? 1 : 0;  // node sizes can differ per node: agree on one answer
  MPI_Allreduce(MPI_IN_PLACE, &same, 1, MPI_INT, MPI_MIN, comm);
  return same == 1;
}

class MpiTransport : public Transport {
 public:
  explicit MpiTransport(MPI_Comm comm) : comm_(comm) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
    shm_disabled_ = !ShmEnabledByEnvironment();
    const bool one_node = AllOnOneNode(comm_, size_);
    one_node_ = one_node;
    shm_possible_ = !shm_disabled_ && one_node;
    shm_max_buffer_ = ShmMaxBufferFromEnvironment();
    if (one_node) SetUpDirectReads();
  }
  ~MpiTransport() override {
    for (auto& [id, op] : ops_) CancelOp(op);
    FreeWindow();
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (!finalised && (shm_ == nullptr || !shm_->broken()))
      for (Registered& r : *registered_) MPI_Win_free(&r.win);
    MPI_Comm_free(&comm_);
  }

  bool shared_memory_available() const override { return shm_possible_ && shm_error_.ok(); }

  // Collective on first use and whenever a call needs more room than the window has (all ranks
  // make the same calls, so they grow it together).
  StatusOr<ShmCollectives*> SharedMemory(size_t bytes_per_round) override {
    if (!shm_possible_)
      return FailedPreconditionError(StrCat(
          "rank ", rank_, ": no shared-memory collectives: ",
          shm_disabled_ ? "LOOM_COMM_SHM=0" : "the ranks are not all on one node"));
    LOOM_RETURN_IF_ERROR(shm_error_);
    const size_t want = ShmBufferFor(bytes_per_round, shm_max_buffer_);
    if (!shm_ || (shm_->buffer_bytes() < want && !shm_->broken())) [[unlikely]] {
      Status s = AllocateWindow(want);
      if (!s.ok()) {
        shm_error_ = s;
        return s;
      }
    }
    shm_->set_timeout_ms(timeout_ms());
    return shm_.get();
  }

  bool can_read_peer() const override { return static_cast<bool>(reader_); }

  // One MPI-3 shared window per allocation (MPI_Win_allocate_shared, each rank's segment on its
  // own pages); every rank learns where each peer's segment starts in the peer's address space
  // and in its own, so the reader turns a peer's address inside it into a memcpy.
  StatusOr<std::span<std::byte>> AllocateShared(size_t bytes) override {
    if (!one_node_)
      return FailedPreconditionError(StrCat("rank ", rank_, ": registered memory needs every rank "
                                            "on one node"));
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");
    Registered reg;
    void* base = nullptr;
    int rc = MPI_Win_allocate_shared(static_cast<MPI_Aint>(bytes), 1, info, comm_, &base, &reg.win);
    MPI_Info_free(&info);
    int ok = rc == MPI_SUCCESS ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm_);
    if (!ok) {
      if (rc == MPI_SUCCESS) MPI_Win_free(&reg.win);
      return ResourceExhaustedError(StrCat("rank ", rank_, ": registered memory of ", bytes,
                                           " bytes could not be allocated (MPI_Win_allocate_shared)"));
    }
    const uint64_t mine[2] = {static_cast<uint64_t>(reinterpret_cast<uintptr_t>(base)), bytes};
    std::vector<uint64_t> all(2 * static_cast<size_t>(size_));
    MPI_Allgather(mine, 2, MPI_UINT64_T, all.data(), 2, MPI_UINT64_T, comm_);
    for (int q = 0; q < size_; ++q) {
      MPI_Aint got = 0;
      int disp = 0;
      void* p = nullptr;
      MPI_Win_shared_query(reg.win, q, &got, &disp, &p);
      reg.peers.push_back({all[2 * static_cast<size_t>(q)], all[2 * static_cast<size_t>(q) + 1],
                           static_cast<std::byte*>(p)});
    }
    reg.mine = static_cast<std::byte*>(base);
    registered_->push_back(std::move(reg));
    return std::span<std::byte>(static_cast<std::byte*>(base), bytes);
  }

  Status FreeShared(std::byte* pointer) override {
    auto it = std::find_if(registered_->begin(), registered_->end(),
                           [&](const Registered& r) { return r.mine == pointer; });
    if (it == registered_->end())
      return InvalidArgumentError(StrCat("rank ", rank_, ": FreeShared of memory that "
                                         "AllocateShared did not return"));
    MPI_Win_free(&it->win);
    registered_->erase(it);
    return OkStatus();
  }

  // The (address, size) of each side's `mine` travel in one small message; the reads then go
  // straight to the peer's memory (process_vm_readv). UnmapPeer is a zero-byte exchange.
  StatusOr<PeerReadFn> ReadPeer(int peer, std::span<const std::byte> mine, size_t their_bytes,
                                int tag) override {
    if (!reader_) return Transport::ReadPeer(peer, mine, their_bytes, tag);
    LOOM_RETURN_IF_ERROR(CheckPeerAndTag(peer, tag, "ReadPeer with"));
    const uint64_t out[3] = {static_cast<uint64_t>(reinterpret_cast<uintptr_t>(mine.data())),
                             mine.size(), their_bytes};
    uint64_t in[3] = {0, 0, 0};
    LOOM_RETURN_IF_ERROR(SendRecv(peer, std::as_bytes(std::span(out)), peer,
                                  std::as_writable_bytes(std::span(in)), tag));
    // Both sides test both directions, so both refuse a disagreement.
    if (in[1] != their_bytes || in[2] != mine.size())
      return InvalidArgumentError(StrCat(
          "message size mismatch: ReadPeer between ranks ", rank_, " and ", peer, " (tag ", tag,
          "): rank ", rank_, " offers ", mine.size(), " bytes and expects ", their_bytes,
          ", rank ", peer, " offers ", in[1], " and expects ", in[2]));
    open_reads_.push_back({peer, tag});
    return PeerReadFn([reader = reader_, peer, base = in[0], bytes = in[1]](
                          size_t offset, std::span<std::byte> dst) -> Status {
      if (offset > bytes || dst.size() > bytes - offset)
        return OutOfRangeError(StrCat("ReadPeer: bytes [", offset, ", ", offset + dst.size(),
                                      ") of rank ", peer, "'s ", bytes));
      return reader(peer, reinterpret_cast<const void*>(base + offset), dst.data(), dst.size());
    });
  }

  Status UnmapPeer(int peer, int tag) override {
    auto it = std::find(open_reads_.begin(), open_reads_.end(), std::pair{peer, tag});
    if (it == open_reads_.end()) return OkStatus();  // MapPeer landed a copy: nothing to wait for
    open_reads_.erase(it);
    return SendRecv(peer, {}, peer, {}, tag);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }
  MPI_Comm comm() const { return comm_; }

  StatusOr<Request> Isend(int peer, int tag, std::span<const std::byte> data) override {
    LOOM_RETURN_IF_ERROR(CheckPeerAndTag(peer, tag, "send"));
    PendingOp op{{}, true, peer, tag, data.size()};
    size_t off = 0;
    do {  // at least one message, also for 0 bytes
      size_t n = std::min(kMaxMessage, data.size() - off);
      MPI_Request r;
      int rc = MPI_Isend(data.data() + off, static_cast<int>(n), MPI_BYTE, peer, tag, comm_, &r);
      if (rc != MPI_SUCCESS) {
        CancelOp(op);
        return MpiError(rc, "MPI_Isend");
      }
      op.requests.push_back(r);
      off += n;
    } while (off < data.size());
    return Add(std::move(op));
  }

  StatusOr<Request> Irecv(int peer, int tag, std::span<std::byte> data) override {
    LOOM_RETURN_IF_ERROR(CheckPeerAndTag(peer, tag, "receive"));
    PendingOp op{{}, false, peer, tag, data.size()};
    size_t off = 0;
    do {
      size_t n = std::min(kMaxMessage, data.size() - off);
      MPI_Request r;
      int rc = MPI_Irecv(data.data() + off, static_cast<int>(n), MPI_BYTE, peer, tag, comm_, &r);
      if (rc != MPI_SUCCESS) {
        CancelOp(op);
        return MpiError(rc, "MPI_Irecv");
      }
      op.requests.push_back(r);
      off += n;
    } while (off < data.size());
    return Add(std::move(op));
  }

  Status Wait(Request& request) override {
    auto it = ops_.find(request.id);
    if (it == ops_.end()) return OkStatus();
    PendingOp op = std::move(it->second);
    ops_.erase(it);
    request = Request{};
    if (timeout_ms() <= 0) {
      std::vector<MPI_Status> st(op.requests.size());
      int rc = MPI_Waitall(static_cast<int>(op.requests.size()), op.requests.data(), st.data());
      if (rc != MPI_SUCCESS) return Failure(op, rc, st);
      return CheckSizes(op, st);
    }
    const int64_t deadline = NowNanos() + timeout_ms() * 1000000;
    int spins = 0;
    while (true) {
      int done = 0;
      std::vector<MPI_Status> st(op.requests.size());
      int rc = MPI_Testall(static_cast<int>(op.requests.size()), op.requests.data(), &done, st.data());
      if (rc != MPI_SUCCESS) return Failure(op, rc, st);
      if (done) return CheckSizes(op, st);
      if (NowNanos() > deadline) {
        CancelOp(op);
        return UnavailableError(StrCat("rank ", rank_, ": ", op.is_send ? "send to" : "receive from",
                                       " rank ", op.peer, " (tag ", op.tag, ", ", op.bytes,
                                       " bytes) did not complete within ", timeout_ms(),
                                       " ms: the peer is dead, stuck or in another call"));
      }
      // Spin briefly for latency, then yield the (possibly oversubscribed) core.
      if (++spins > 1000) std::this_thread::sleep_for(std::chrono::microseconds(50));
      else if (spins > 100) std::this_thread::yield();
    }
  }

  StatusOr<bool> Test(Request& request) override {
    auto it = ops_.find(request.id);
    if (it == ops_.end()) return true;
    PendingOp& op = it->second;
    int done = 0;
    std::vector<MPI_Status> st(op.requests.size());
    int rc = MPI_Testall(static_cast<int>(op.requests.size()), op.requests.data(), &done, st.data());
    if (rc != MPI_SUCCESS) {
      Status s = Failure(op, rc, st);
      ops_.erase(it);
      request = Request{};
      return s;
    }
    if (!done) return false;
    Status s = CheckSizes(op, st);
    ops_.erase(it);
    request = Request{};
    if (!s.ok()) return s;
    return true;
  }

  void Cancel(Request& request) override {
    auto it = ops_.find(request.id);
    if (it == ops_.end()) return;
    CancelOp(it->second);
    ops_.erase(it);
    request = Request{};
  }

  StatusOr<std::unique_ptr<Transport>> Split(int color, int key) override {
    MPI_Comm sub;
    LOOM_MPI_CHECK(MPI_Comm_split(comm_, color < 0 ? MPI_UNDEFINED : color, key, &sub));
    if (sub == MPI_COMM_NULL) return std::unique_ptr<Transport>();
    MPI_Comm_set_errhandler(sub, MPI_ERRORS_RETURN);
    auto t = std::make_unique<MpiTransport>(sub);
    t->set_timeout_ms(timeout_ms());
    return std::unique_ptr<Transport>(std::move(t));
  }

 private:
  // Allocates the shared window (collective); all ranks agree on success.
  Status AllocateWindow(size_t buffer_bytes) {
    FreeWindow();
    const size_t segment = ShmCollectives::SegmentBytes(buffer_bytes);
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "alloc_shared_noncontig", "true");  // each segment on its owner's pages
    void* base = nullptr;
    // + 64: a segment may start anywhere; the mappings are page-aligned in every process, so
    // rounding each address up to 64 bytes gives the same offset everywhere.
    int rc = MPI_Win_allocate_shared(static_cast<MPI_Aint>(segment + 64), 1, info, comm_, &base,
                                     &win_);
    MPI_Info_free(&info);
    int ok = rc == MPI_SUCCESS ? 1 : 0;
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm_);
    std::vector<std::byte*> segments(static_cast<size_t>(size_));
    for (int q = 0; ok && q < size_; ++q) {
      MPI_Aint bytes = 0;
      int disp = 0;
      void* p = nullptr;
      if (MPI_Win_shared_query(win_, q, &bytes, &disp, &p) != MPI_SUCCESS ||
          static_cast<size_t>(bytes) < segment + 64)
        ok = 0;
      const uintptr_t a = (reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t{63};
      segments[static_cast<size_t>(q)] = reinterpret_cast<std::byte*>(a);
    }
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm_);
    if (!ok) {
      if (win_ != MPI_WIN_NULL) MPI_Win_free(&win_);
      win_ = MPI_WIN_NULL;
      Status why = rc == MPI_SUCCESS ? InternalError("a segment was short")
                                     : MpiError(rc, "MPI_Win_allocate_shared");
      return ResourceExhaustedError(StrCat(
          "rank ", rank_, ": shared-memory window of ", segment, " bytes per rank on ", size_,
          " ranks could not be set up (", why.message(), "); set LOOM_COMM_SHM=0 or "
          "LOOM_COMM_SHM_BYTES smaller, or pick a point-to-point algorithm"));
    }
    std::memset(segments[static_cast<size_t>(rank_)], 0, kShmControlBytes);  // arrival counter
    MPI_Barrier(comm_);                      // every counter is zero before anyone arrives
    shm_ = std::make_unique<ShmCollectives>(rank_, std::move(segments), buffer_bytes);
    if (reader_) shm_->set_peer_reader(reader_);
    if (writer_) shm_->set_peer_writer(writer_);
    if (streaming_min_bytes_ > 0) shm_->set_streaming_min_bytes(streaming_min_bytes_);
    if (direct_allgather_ >= 0) shm_->set_direct_allgather(direct_allgather_ == 1);
    if (direct_allreduce_ >= 0) shm_->set_direct_allreduce(direct_allreduce_ == 1);
    shm_->set_direct_min_bytes(direct_min_bytes_);
    return OkStatus();
  }
  // Direct reads (one-copy allgather/alltoall through ShmCollectives::set_peer_reader, and
  // ReadPeer) where every rank can read every other's memory with process_vm_readv (ptrace
  // rules allow it: same user, no Yama restriction), which each rank probes on its neighbour
  // when the transport is made (collective); all ranks agree, and a refusal anywhere keeps the
  // copying paths everywhere. LOOM_COMM_CMA=0 turns it off; LOOM_COMM_DIRECT_ALLGATHER=0/1 and
  // LOOM_COMM_DIRECT_ALLREDUCE=0/1 override the per-rank-count choices and
  // LOOM_COMM_DIRECT_MIN_BYTES the smallest directly read block (A/B runs). Direct writes
  // (process_vm_writev, the pushing allgather) are probed the same way, on top of the reads;
  // LOOM_COMM_STREAMING_MIN_BYTES overrides the footprint from which direct blocks stream
  // (ShmCollectives::set_streaming_min_bytes; default the last-level cache's size).
  void SetUpDirectReads() {
    const char* env = std::getenv("LOOM_COMM_CMA");
    int ok = env != nullptr && std::strcmp(env, "0") == 0 ? 0 : 1;
    direct_allgather_ = ForcedChoice("LOOM_COMM_DIRECT_ALLGATHER");
    direct_allreduce_ = ForcedChoice("LOOM_COMM_DIRECT_ALLREDUCE");
    if (const char* v = std::getenv("LOOM_COMM_DIRECT_MIN_BYTES"); v != nullptr && *v != 0) {
      StatusOr<uint64_t> b = ParseByteSize(v, "LOOM_COMM_DIRECT_MIN_BYTES");
      if (b.ok()) direct_min_bytes_ = std::max<size_t>(*b, 1);
    }
    if (const char* v = std::getenv("LOOM_COMM_STREAMING_MIN_BYTES"); v != nullptr && *v != 0) {
      StatusOr<uint64_t> b = ParseByteSize(v, "LOOM_COMM_STREAMING_MIN_BYTES");
      if (b.ok()) streaming_min_bytes_ = std::max<size_t>(*b, 1);
    }
    const int pid = static_cast<int>(getpid());
    // probe[0] is read by the next rank, probe[1] written by the previous one.
    uint64_t probe[2] = {0x10CA1C0FFEEull + static_cast<uint64_t>(rank_), 0};
    const auto address = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(&probe[0]));
    std::vector<int> pids(static_cast<size_t>(size_));
    std::vector<uint64_t> addresses(static_cast<size_t>(size_));
    MPI_Allgather(&pid, 1, MPI_INT, pids.data(), 1, MPI_INT, comm_);
    MPI_Allgather(&address, 1, MPI_UINT64_T, addresses.data(), 1, MPI_UINT64_T, comm_);
    ShmCollectives::PeerReader reader = ShmCollectives::CrossMemoryReader(pids);
    ShmCollectives::PeerWriter writer = ShmCollectives::CrossMemoryWriter(pids);
    if (!reader || !writer) ok = 0;
    const int next = (rank_ + 1) % size_;
    if (ok && size_ > 1) {
      uint64_t got = 0;
      Status s = reader(next, reinterpret_cast<const void*>(addresses[static_cast<size_t>(next)]),
                        &got, sizeof(got));
      ok = s.ok() && got == 0x10CA1C0FFEEull + static_cast<uint64_t>(next) ? 1 : 0;
    }
    int wrote = ok;
    if (ok && size_ > 1) {
      const uint64_t mark = 0xB0A7ull + static_cast<uint64_t>(rank_);
      wrote = writer(next, &mark, reinterpret_cast<void*>(addresses[static_cast<size_t>(next)] + 8),
                     sizeof(mark))
                  .ok();
    }
    // Also keeps `probe` alive until every neighbour has read and written it.
    MPI_Allreduce(MPI_IN_PLACE, &ok, 1, MPI_INT, MPI_MIN, comm_);
    if (!ok) return;
    const int prev = (rank_ + size_ - 1) % size_;
    if (size_ > 1 && probe[1] != 0xB0A7ull + static_cast<uint64_t>(prev)) wrote = 0;
    MPI_Allreduce(MPI_IN_PLACE, &wrote, 1, MPI_INT, MPI_MIN, comm_);
    // A peer's address inside registered memory is written through this rank's mapping.
    if (wrote)
      writer_ = [cma = std::move(writer), reg = registered_](int peer, const void* local,
                                                             void* remote, size_t bytes) -> Status {
        const auto at = reinterpret_cast<uintptr_t>(remote);
        for (const Registered& r : *reg) {
          const Registered::Peer& q = r.peers[static_cast<size_t>(peer)];
          if (at >= q.base && at - q.base <= q.bytes && bytes <= q.bytes - (at - q.base)) {
            std::memcpy(q.mapped + (at - q.base), local, bytes);
            return OkStatus();
          }
        }
        return cma(peer, local, remote, bytes);
      };
    // A peer's address inside registered memory (AllocateShared) is read with memcpy from this
    // rank's mapping of it; anything else with process_vm_readv.
    reader_ = [cma = std::move(reader), reg = registered_](int peer, const void* remote, void* local,
                                                           size_t bytes) -> Status {
      const auto at = reinterpret_cast<uintptr_t>(remote);
      for (const Registered& r : *reg) {
        const Registered::Peer& q = r.peers[static_cast<size_t>(peer)];
        if (at >= q.base && at - q.base <= q.bytes && bytes <= q.bytes - (at - q.base)) {
          std::memcpy(local, q.mapped + (at - q.base), bytes);
          return OkStatus();
        }
      }
      return cma(peer, remote, local, bytes);
    };
  }
  // MPI_Win_free synchronises all ranks; after a timed-out barrier some rank may never come.
  // So the ranks first agree, within the timeout, that nobody's window is broken; otherwise
  // the window is left to process exit (its agreement buffers too, MPI may still write them).
  void FreeWindow() {
    int finalised = 0;
    MPI_Finalized(&finalised);
    if (win_ == MPI_WIN_NULL || finalised) return;
    auto* flag = new int[2]{shm_ && shm_->broken() ? 1 : 0, 1};
    MPI_Request r;
    bool agreed = false;
    if (MPI_Iallreduce(&flag[0], &flag[1], 1, MPI_INT, MPI_MAX, comm_, &r) == MPI_SUCCESS) {
      const int64_t deadline = NowNanos() + std::max<int64_t>(timeout_ms(), 1000) * 1000000;
      int done = 0;
      while (!done && NowNanos() < deadline) {
        MPI_Test(&r, &done, MPI_STATUS_IGNORE);
        if (!done) std::this_thread::yield();
      }
      agreed = done && flag[1] == 0;
      if (done) delete[] flag;
    }
    if (agreed) MPI_Win_free(&win_);
    win_ = MPI_WIN_NULL;
    shm_.reset();
  }

  Request Add(PendingOp op) {
    int64_t id = next_id_++;
    ops_[id] = std::move(op);
    return Request{id};
  }
  // Receives are cancelled and completed (their buffer is free afterwards). A send to a stuck
  // peer may not be cancellable; it is released and MPI may still read its buffer.
  void CancelOp(PendingOp& op) {
    for (MPI_Request& r : op.requests) {
      if (r == MPI_REQUEST_NULL) continue;
      MPI_Cancel(&r);
      if (op.is_send) MPI_Request_free(&r);
      else MPI_Wait(&r, MPI_STATUS_IGNORE);
    }
    op.requests.clear();
  }
  Status Failure(PendingOp& op, int rc, const std::vector<MPI_Status>& st) {
    if (rc == MPI_ERR_IN_STATUS)
      for (const MPI_Status& s : st)
        if (s.MPI_ERROR != MPI_SUCCESS) rc = s.MPI_ERROR;
    int cls = 0;
    MPI_Error_class(rc, &cls);
    CancelOp(op);
    if (cls == MPI_ERR_TRUNCATE)
      return InvalidArgumentError(StrCat("rank ", rank_, ": message from rank ", op.peer,
                                         " (tag ", op.tag, ") is larger than the ", op.bytes,
                                         " bytes posted"));
    return MpiError(rc, op.is_send ? "MPI_Isend" : "MPI_Irecv");
  }
  Status CheckSizes(const PendingOp& op, const std::vector<MPI_Status>& st) {
    if (op.is_send) return OkStatus();
    size_t got = 0;
    for (const MPI_Status& s : st) {
      int n = 0;
      MPI_Get_count(&s, MPI_BYTE, &n);
      got += static_cast<size_t>(n);
    }
    if (got != op.bytes)
      return InvalidArgumentError(StrCat("message size mismatch: rank ", op.peer, " sent ", got,
                                         " bytes with tag ", op.tag, " to rank ", rank_,
                                         ", which expected ", op.bytes));
    return OkStatus();
  }

  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
  int64_t next_id_ = 0;
  std::unordered_map<int64_t, PendingOp> ops_;
  bool shm_possible_ = false, shm_disabled_ = false;
  size_t shm_max_buffer_ = 0;  // read once: getenv per call costs on 1 µs collectives
  Status shm_error_;
  MPI_Win win_ = MPI_WIN_NULL;
  std::unique_ptr<ShmCollectives> shm_;
  ShmCollectives::PeerReader reader_;  // set when every rank can read every other's memory
  ShmCollectives::PeerWriter writer_;  // and write it (process_vm_writev; the pushing allgather)
  size_t streaming_min_bytes_ = 0;     // LOOM_COMM_STREAMING_MIN_BYTES; 0: the cache's size
  int direct_allgather_ = -1;          // LOOM_COMM_DIRECT_ALLGATHER: -1 unset, 0 off, 1 on
  int direct_allreduce_ = -1;          // LOOM_COMM_DIRECT_ALLREDUCE: the same
  size_t direct_min_bytes_ = 0;        // LOOM_COMM_DIRECT_MIN_BYTES; 0: the default
  std::vector<std::pair<int, int>> open_reads_;  // (peer, tag) of ReadPeer calls not unmapped
  bool one_node_ = false;
  // AllocateShared's windows; shared with reader_ (copies of it live in shm_ and PeerReadFns).
  struct Registered {
    struct Peer {
      uint64_t base, bytes;        // the peer's segment in the peer's address space
      std::byte* mapped;           // the same bytes in this rank's (writable: a shared window)
    };
    MPI_Win win = MPI_WIN_NULL;
    std::byte* mine = nullptr;
    std::vector<Peer> peers;
  };
  std::shared_ptr<std::vector<Registered>> registered_ = std::make_shared<std::vector<Registered>>();
};

}  // namespace

Status InitMpi(int* argc, char*** argv) {
  int initialised = 0;
  MPI_Initialized(&initialised);
  if (initialised) return OkStatus();
  int provided = 0;
  LOOM_MPI_CHECK(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
  g_initialised_here = true;
  return OkStatus();
}

void FinalizeMpi() {
  int finalised = 0;
  MPI_Finalized(&finalised);
  if (g_initialised_here && !finalised) MPI_Finalize();
}

StatusOr<std::unique_ptr<Transport>> WorldTransport() {
  LOOM_RETURN_IF_ERROR(InitMpi());
  MPI_Comm dup;
  LOOM_MPI_CHECK(MPI_Comm_dup(MPI_COMM_WORLD, &dup));
  MPI_Comm_set_errhandler(dup, MPI_ERRORS_RETURN);
  return std::unique_ptr<Transport>(std::make_unique<MpiTransport>(dup));
}

StatusOr<int> HostColour() {
  LOOM_RETURN_IF_ERROR(InitMpi());
  int world_rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm node;
  LOOM_MPI_CHECK(
      MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  int colour = world_rank;
  const int rc = MPI_Allreduce(MPI_IN_PLACE, &colour, 1, MPI_INT, MPI_MIN, node);
  MPI_Comm_free(&node);
  if (rc != MPI_SUCCESS)
    return InternalError("HostColour: MPI_Allreduce on the host communicator failed");
  return colour;
}

MPI_Comm NativeComm(const Transport& transport) {
  auto* m = dynamic_cast<const MpiTransport*>(&transport);
  return m ? m->comm() : MPI_COMM_NULL;
}

}  // namespace loom::comm::mpi
