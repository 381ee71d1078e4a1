// The thread backend (thread_transport.h): a shared World with per-destination lists of
// unmatched sends and receives, one mutex and one condition variable.
#include "loom/comm/thread/thread_transport.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "loom/base/cpu.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/comm/shm_collectives.h"

namespace loom::comm::thread {
namespace {

// kMatched: a send met a receive whose rank is blocked in Wait on it; that rank copies.
enum class OpState { kPosted, kMatched, kCopying, kDone, kFailed };

struct Op {
  bool is_send = false;
  int src = 0, dst = 0, tag = 0;
  const std::byte* send_data = nullptr;
  std::byte* recv_data = nullptr;
  size_t bytes = 0;
  // Written under the world lock; read without it only by a rank spinning in Wait.
  std::atomic<OpState> state{OpState::kPosted};
  Status status;
  // Receives only.
  const Transport::PieceVisitor* visitor = nullptr;  // SendRecvVisit's
  size_t visited = 0;    // bytes handed to `visitor` so far (touched by the receiver's thread)
  bool waiting = false;  // the receiver is blocked in Wait on this op
  std::shared_ptr<Op> match;  // the send, while kMatched
};

struct SplitState {
  std::vector<std::pair<int, int>> entries;  // (color, key) per rank
  int arrived = 0;
  int departed = 0;
  std::map<int, std::shared_ptr<class World>> worlds;
};

// How long Wait polls before it sleeps on the condition variable: a peer on another core
// usually answers within microseconds, and a sleep costs a futex wake-up (10-20 us on a VM) per
// message. Only when every rank can have a core: oversubscribed, a spinning rank would steal
// the time of the peer it waits for. LOOM_COMM_THREAD_SPIN_US overrides (0: never spin).
int64_t SpinNanosFor(int ranks) {
  if (const char* env = std::getenv("LOOM_COMM_THREAD_SPIN_US"); env != nullptr && *env != 0)
    return std::max<int64_t>(0, std::atoll(env)) * 1000;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores != 0 && static_cast<unsigned>(ranks) <= cores ? 50000 : 0;
}

class World : public std::enable_shared_from_this<World> {
 public:
  World(int size, int64_t spin_ns)
      : size_(size),
        spin_ns_(spin_ns),
        gone_(new std::atomic<bool>[static_cast<size_t>(size)]()),
        rank_cv_(static_cast<size_t>(size)),
        sends_to_(static_cast<size_t>(size)),
        recvs_at_(static_cast<size_t>(size)) {}

  int size() const { return size_; }

  // Posts `op`; matches it with the oldest compatible opposite operation if there is one and
  // copies outside the lock.
  void Post(const std::shared_ptr<Op>& op) {
    std::unique_lock<std::mutex> lock(mu_);
    auto& opposite = op->is_send ? recvs_at_[static_cast<size_t>(op->dst)]
                                 : sends_to_[static_cast<size_t>(op->dst)];
    for (auto it = opposite.begin(); it != opposite.end(); ++it) {
      Op& o = **it;
      if (o.src != op->src || o.tag != op->tag) continue;
      std::shared_ptr<Op> other = *it;
      opposite.erase(it);
      Op& send = op->is_send ? *op : *other;
      Op& recv = op->is_send ? *other : *op;
      if (send.bytes != recv.bytes) {
        Status s = InvalidArgumentError(
            StrCat("message size mismatch: rank ", send.src, " sent ", send.bytes,
                   " bytes with tag ", send.tag, " to rank ", recv.dst, ", which expected ",
                   recv.bytes));
        Fail(send, s);
        Fail(recv, s);
        Wake(send.src);
        Wake(recv.dst);
        return;
      }
      if (!op->is_send) {
        Deliver(lock, recv, send, /*visit=*/true);  // this is the receiver's thread
      } else if (recv.waiting) {
        // The receiver is idle in Wait: it copies its own message, so two ranks exchanging
        // copy in parallel instead of the second poster doing both copies.
        send.state = recv.state = OpState::kMatched;
        recv.match = op;  // op is the send here
        Wake(recv.dst);
      } else {
        Deliver(lock, recv, send, /*visit=*/false);  // the receiver visits after completion
      }
      return;
    }
    int peer = op->is_send ? op->dst : op->src;
    if (Gone(peer)) {
      Fail(*op, PeerExited(*op));
      return;
    }
    auto& mine = op->is_send ? sends_to_[static_cast<size_t>(op->dst)]
                             : recvs_at_[static_cast<size_t>(op->dst)];
    mine.push_back(op);
  }

  // Waits until `op` finishes, its peer exits, or the deadline passes (then cancels it).
  Status Wait(const std::shared_ptr<Op>& op, int64_t timeout_ms, int self) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!op->is_send) op->waiting = true;
    struct Unmark {
      Op& op;
      ~Unmark() { op.waiting = false; }  // runs while `lock` is still held
    } unmark{*op};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    const int64_t spin_until = spin_ns_ > 0 ? NowNanos() + spin_ns_ : 0;
    while (true) {
      if (op->state == OpState::kDone) return OkStatus();
      if (op->state == OpState::kFailed) return op->status;
      if (op->state == OpState::kMatched) {
        // A receive: copy it here. A send: its receiver is in Wait and copies it soon.
        if (!op->is_send) Deliver(lock, *op, *op->match, /*visit=*/true);
        else if (!SpinWhileUnchanged(lock, *op, spin_until))
          rank_cv_[static_cast<size_t>(self)].wait(lock);
        continue;
      }
      if (SpinWhileUnchanged(lock, *op, spin_until)) continue;
      int peer = op->is_send ? op->dst : op->src;
      if (op->state == OpState::kPosted && Gone(peer)) {
        RemovePosted(op);
        Fail(*op, PeerExited(*op));
        return op->status;
      }
      if (op->state == OpState::kCopying) {
        rank_cv_[static_cast<size_t>(self)].wait(lock);  // a copy in flight always finishes
        continue;
      }
      if (rank_cv_[static_cast<size_t>(self)].wait_until(lock, deadline) ==
              std::cv_status::timeout &&
          op->state == OpState::kPosted) {
        RemovePosted(op);
        Status s = UnavailableError(StrCat(
            "rank ", self, ": ", op->is_send ? "send to" : "receive from", " rank ", peer,
            " (tag ", op->tag, ", ", op->bytes, " bytes) did not complete within ", timeout_ms,
            " ms: the peer is dead, stuck or in another call"));
        Fail(*op, s);
        return s;
      }
    }
  }

  bool Poll(const std::shared_ptr<Op>& op, Status& status) {
    std::unique_lock<std::mutex> lock(mu_);
    if (op->state == OpState::kMatched && !op->is_send)
      Deliver(lock, *op, *op->match, /*visit=*/true);
    if (op->state == OpState::kDone) return true;
    if (op->state == OpState::kFailed) {
      status = op->status;
      return true;
    }
    int peer = op->is_send ? op->dst : op->src;
    if (op->state == OpState::kPosted && Gone(peer)) {
      RemovePosted(op);
      Fail(*op, PeerExited(*op));
      status = op->status;
      return true;
    }
    return false;
  }

  void Cancel(const std::shared_ptr<Op>& op) {
    std::unique_lock<std::mutex> lock(mu_);
    // A matched receive is delivered (its sender is waiting on it); a matched send waits for
    // its receiver, which is blocked in Wait on it and copies it.
    if (op->state == OpState::kMatched && !op->is_send)
      Deliver(lock, *op, *op->match, /*visit=*/false);
    while (op->state == OpState::kCopying || op->state == OpState::kMatched)
      rank_cv_[static_cast<size_t>(Owner(*op))].wait(lock);
    if (op->state == OpState::kPosted) {
      RemovePosted(op);
      Fail(*op, FailedPreconditionError("cancelled"));
    }
  }

  // Whether `rank`'s function has returned (lock-free: ShmCollectives asks while it spins).
  bool Gone(int rank) const {
    return gone_[static_cast<size_t>(rank)].load(std::memory_order_acquire);
  }

  void MarkExited(int rank) {
    std::lock_guard<std::mutex> lock(mu_);
    gone_[static_cast<size_t>(rank)].store(true, std::memory_order_release);
    split_cv_.notify_all();  // a shared-memory setup waiting for it gives up
    // Drop what the exiting rank left posted: its buffers are going away.
    for (auto* lists : {&sends_to_, &recvs_at_})
      for (auto& l : *lists)
        for (auto it = l.begin(); it != l.end();) {
          Op& o = **it;
          if ((o.is_send ? o.src : o.dst) == rank) {
            Fail(o, FailedPreconditionError("the rank exited"));
            it = l.erase(it);
          } else {
            ++it;
          }
        }
    for (auto& cv : rank_cv_) cv.notify_all();  // peers waiting on it fail now
  }

  // Collective set-up of the shared-memory segments (ThreadTransport::SharedMemory), call `seq`
  // of every rank: each asks for `buffer_bytes`, the last to arrive allocates one segment per
  // rank (64-byte aligned, control pages zero), and all get the same addresses. The world owns
  // the memory; a new set-up replaces it, which is safe because every rank is here, none in a
  // collective. InvalidArgument when the ranks ask for different sizes; Unavailable when a rank
  // has exited or the timeout passes first.
  StatusOr<std::vector<std::byte*>> ShmSegments(int64_t seq, int rank, size_t buffer_bytes,
                                                int64_t timeout_ms) {
    std::unique_lock<std::mutex> lock(mu_);
    ShmSetup& st = shm_setups_[seq];
    if (st.arrived == 0) st.buffer_bytes = buffer_bytes;
    if (st.buffer_bytes != buffer_bytes) st.mismatch = true;
    if (++st.arrived == size_ && !st.mismatch) {
      const size_t segment = ShmCollectives::SegmentBytes(buffer_bytes);
      shm_memory_.clear();
      for (int q = 0; q < size_; ++q) {
        shm_memory_.push_back(std::make_unique<std::byte[]>(segment + 64));  // zeroed
        const auto a =
            (reinterpret_cast<uintptr_t>(shm_memory_.back().get()) + 63) & ~uintptr_t{63};
        st.segments.push_back(reinterpret_cast<std::byte*>(a));
      }
    }
    split_cv_.notify_all();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    Status result;
    while (st.arrived < size_) {
      int missing = -1;
      for (int q = 0; q < size_ && missing < 0; ++q)
        if (Gone(q)) missing = q;
      if (missing >= 0) {
        result = UnavailableError(
            StrCat("rank ", rank, ": shared-memory set-up: rank ", missing, " has exited"));
        break;
      }
      if (split_cv_.wait_until(lock, deadline) == std::cv_status::timeout && st.arrived < size_) {
        result =
            UnavailableError(StrCat("rank ", rank, ": shared-memory set-up: only ", st.arrived,
                                    " of ", size_, " ranks arrived within ", timeout_ms, " ms"));
        break;
      }
    }
    if (result.ok() && st.mismatch)
      result = InvalidArgumentError(StrCat("rank ", rank,
                                           ": shared-memory set-up: the ranks asked for "
                                           "different buffer sizes (this rank ",
                                           buffer_bytes, ")"));
    std::vector<std::byte*> segments = st.segments;
    // Erased by the last rank out; a failed set-up stays (its ranks use no shared memory again).
    if (++st.departed == size_) shm_setups_.erase(seq);
    if (!result.ok()) return result;
    return segments;
  }

  // Collective split (see Transport::Split). Returns the new world and rank, or nullptr.
  StatusOr<std::pair<std::shared_ptr<World>, int>> Split(int64_t seq, int rank, int color,
                                                         int key, int64_t timeout_ms) {
    std::unique_lock<std::mutex> lock(mu_);
    SplitState& st = splits_[seq];
    if (st.entries.empty()) st.entries.assign(static_cast<size_t>(size_), {0, 0});
    st.entries[static_cast<size_t>(rank)] = {color, key};
    ++st.arrived;
    split_cv_.notify_all();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (st.arrived < size_) {
      if (split_cv_.wait_until(lock, deadline) == std::cv_status::timeout && st.arrived < size_)
        return UnavailableError(StrCat("rank ", rank, ": Split: only ", st.arrived, " of ",
                                       size_, " ranks arrived within ", timeout_ms, " ms"));
    }
    std::pair<std::shared_ptr<World>, int> result{nullptr, -1};
    if (color >= 0) {
      std::vector<std::pair<int, int>> members;  // (key, old rank)
      for (int r = 0; r < size_; ++r)
        if (st.entries[static_cast<size_t>(r)].first == color)
          members.push_back({st.entries[static_cast<size_t>(r)].second, r});
      std::sort(members.begin(), members.end());
      int new_rank = 0;
      for (size_t i = 0; i < members.size(); ++i)
        if (members[i].second == rank) new_rank = static_cast<int>(i);
      auto& w = st.worlds[color];
      if (!w) w = std::make_shared<World>(static_cast<int>(members.size()), spin_ns_);
      result = {w, new_rank};
    }
    if (++st.departed == size_) splits_.erase(seq);
    return result;
  }

 private:
  // Before `spin_until` (NowNanos): polls op's state outside the lock until it changes or the
  // time is up, and returns true (the caller re-examines the op); after it, returns false at
  // once (the caller sleeps). The lock is held on entry and on return.
  // Busy for the first kBusySpinNs of each call, then yielding between polls: the peer this
  // rank waits for may share its core (the scheduler put both threads on one, or the machine
  // is loaded), and a busy spin then holds the core for the whole budget before the peer runs.
  // 2-rank ping-pong on the 2-vCPU host, one-way (`loom comm model --fit`): both ranks pinned to
  // one core (`taskset -c 0`) 54.5 us with busy spinning (the 50 us budget, then a wake-up),
  // 7.2 us busy 5 us then yielding, 3.9 us busy 2 us; on two free cores 0.9-1.5 us either way.
  // The unpinned default had read 54 us in some runs: the scheduler had co-located the ranks.
  static constexpr int64_t kBusySpinNs = 2000;
  bool SpinWhileUnchanged(std::unique_lock<std::mutex>& lock, const Op& op, int64_t spin_until) {
    if (spin_until == 0 || NowNanos() >= spin_until) return false;
    const OpState seen = op.state.load(std::memory_order_acquire);
    lock.unlock();
    const int64_t busy_until = std::min(spin_until, NowNanos() + kBusySpinNs);
    for (int64_t now = NowNanos();
         op.state.load(std::memory_order_acquire) == seen && now < spin_until; now = NowNanos()) {
      if (now < busy_until)
        for (int i = 0; i < 16; ++i) CpuRelax();
      else
        std::this_thread::yield();
    }
    lock.lock();
    return true;
  }

  // Copies send -> recv outside the lock (held on entry and exit). With `visit` (only on the
  // receiver's thread) each piece goes to the receive's visitor right after it lands.
  void Deliver(std::unique_lock<std::mutex>& lock, Op& recv, Op& send, bool visit) {
    send.state = recv.state = OpState::kCopying;
    lock.unlock();
    if (visit && recv.visitor != nullptr) {
      for (size_t off = 0; off < recv.bytes; off += Transport::kVisitPieceBytes) {
        size_t len = std::min(Transport::kVisitPieceBytes, recv.bytes - off);
        std::memcpy(recv.recv_data + off, send.send_data + off, len);
        (*recv.visitor)(off, {recv.recv_data + off, len});
        recv.visited = off + len;
      }
    } else if (send.bytes > 0) {
      std::memcpy(recv.recv_data, send.send_data, send.bytes);
    }
    lock.lock();
    send.state = recv.state = OpState::kDone;
    Wake(send.src);
    Wake(recv.dst);
    recv.match.reset();  // may drop the last reference to `send`
  }

  static int Owner(const Op& op) { return op.is_send ? op.src : op.dst; }
  // Wakes the rank that owns an operation whose state changed (lock held).
  void Wake(int rank) { rank_cv_[static_cast<size_t>(rank)].notify_all(); }

  static void Fail(Op& op, const Status& s) {
    op.state = OpState::kFailed;
    op.status = s;
  }
  Status PeerExited(const Op& op) const {
    int peer = op.is_send ? op.dst : op.src;
    return UnavailableError(StrCat("rank ", op.is_send ? op.src : op.dst, ": ",
                                   op.is_send ? "send to" : "receive from", " rank ", peer,
                                   " (tag ", op.tag, ", ", op.bytes,
                                   " bytes): that rank has exited"));
  }
  void RemovePosted(const std::shared_ptr<Op>& op) {
    auto& l = op->is_send ? sends_to_[static_cast<size_t>(op->dst)]
                          : recvs_at_[static_cast<size_t>(op->dst)];
    l.remove(op);
  }

  const int size_;
  const int64_t spin_ns_;  // SpinNanosFor the root world's size (sub-worlds share its threads)
  // Exited ranks (MarkExited): written under mu_, read with or without it (ShmCollectives asks
  // while it spins).
  std::unique_ptr<std::atomic<bool>[]> gone_;
  std::mutex mu_;
  // One per rank: a completion wakes the two ranks it concerns, not every sleeper (with 8
  // ranks on 2 cores, notify_all woke 6 threads for nothing per message).
  std::vector<std::condition_variable> rank_cv_;
  std::condition_variable split_cv_;
  std::vector<std::list<std::shared_ptr<Op>>> sends_to_;  // by destination
  std::vector<std::list<std::shared_ptr<Op>>> recvs_at_;  // by destination (the receiver)
  std::map<int64_t, SplitState> splits_;
  struct ShmSetup {
    size_t buffer_bytes = 0;
    int arrived = 0, departed = 0;
    bool mismatch = false;
    std::vector<std::byte*> segments;
  };
  std::map<int64_t, ShmSetup> shm_setups_;
  std::vector<std::unique_ptr<std::byte[]>> shm_memory_;  // the current segments
};

class ThreadTransport : public Transport {
 public:
  ThreadTransport(std::shared_ptr<World> world, int rank)
      : world_(std::move(world)),
        rank_(rank),
        shm_enabled_(ShmEnabledByEnvironment()),
        shm_max_buffer_(ShmMaxBufferFromEnvironment()) {}
  ~ThreadTransport() override {
    for (auto& [id, op] : ops_) world_->Cancel(op);
    world_->MarkExited(rank_);
  }

  // Shared-memory collectives (shm_collectives.h) over segments the world allocates: the ranks
  // share an address space, so every rank can load and store every segment. Staged copies only,
  // no PeerReader: a direct read of a peer's own buffer would touch freed memory if that rank
  // left a collective early (a timeout) while a slower one still read, where cross-process
  // reads fail cleanly. Collective on first use and when a call needs more room, like the MPI
  // backend's window; LOOM_COMM_SHM=0 turns it off, LOOM_COMM_SHM_BYTES caps the buffer.
  // Not at 2 ranks: there a point-to-point exchange (with the spin in Wait) measured as fast at
  // 4 B and faster at 1 MiB (98 against 128 us; docs/benchmarks.md).
  bool shared_memory_available() const override {
    return shm_enabled_ && shm_error_.ok() && size() > 2;
  }
  StatusOr<ShmCollectives*> SharedMemory(size_t bytes_per_round) override {
    if (!shm_enabled_)
      return FailedPreconditionError(
          StrCat("rank ", rank_, ": no shared-memory collectives: LOOM_COMM_SHM=0"));
    LOOM_RETURN_IF_ERROR(shm_error_);
    const size_t want = ShmBufferFor(bytes_per_round, shm_max_buffer_);
    if (!shm_ || (shm_->buffer_bytes() < want && !shm_->broken())) [[unlikely]] {
      StatusOr<std::vector<std::byte*>> segments =
          world_->ShmSegments(shm_seq_++, rank_, want, timeout_ms());
      if (!segments.ok()) {
        shm_error_ = segments.status();
        return shm_error_;
      }
      shm_ = std::make_unique<ShmCollectives>(rank_, std::move(*segments), want);
      World* world = world_.get();  // outlives shm_: this transport holds it
      shm_->set_peer_alive([world](int q) { return !world->Gone(q); });
    }
    shm_->set_timeout_ms(timeout_ms());
    return shm_.get();
  }

  int rank() const override { return rank_; }
  int size() const override { return world_->size(); }
  std::string backend() const override { return "thread"; }

  StatusOr<Request> Isend(int peer, int tag, std::span<const std::byte> data) override {
    LOOM_RETURN_IF_ERROR(CheckPeerAndTag(peer, tag, "send"));
    auto op = std::make_shared<Op>();
    op->is_send = true;
    op->src = rank_;
    op->dst = peer;
    op->tag = tag;
    op->send_data = data.data();
    op->bytes = data.size();
    return Start(op);
  }

  StatusOr<Request> Irecv(int peer, int tag, std::span<std::byte> data) override {
    LOOM_RETURN_IF_ERROR(CheckPeerAndTag(peer, tag, "receive"));
    return Start(RecvOp(peer, tag, data, nullptr));
  }

  Status SendRecvVisit(int dst, std::span<const std::byte> send, int src,
                       std::span<std::byte> recv, int tag, const PieceVisitor& visit) override {
    LOOM_RETURN_IF_ERROR(CheckPeerAndTag(src, tag, "receive"));
    auto op = RecvOp(src, tag, recv, &visit);
    Request rs[2];
    LOOM_ASSIGN_OR_RETURN(rs[0], Start(op));
    auto sr = Isend(dst, tag, send);
    if (!sr.ok()) {
      Cancel(rs[0]);
      return sr.status();
    }
    rs[1] = *sr;
    LOOM_RETURN_IF_ERROR(WaitAll(rs));
    // What the sender's thread copied (this rank was not yet waiting) is visited now.
    VisitPieces(recv, visit, op->visited);
    return OkStatus();
  }

  Status Wait(Request& request) override {
    auto it = ops_.find(request.id);
    if (it == ops_.end()) return OkStatus();
    auto op = it->second;
    ops_.erase(it);
    request = Request{};
    return world_->Wait(op, timeout_ms(), rank_);
  }

  StatusOr<bool> Test(Request& request) override {
    auto it = ops_.find(request.id);
    if (it == ops_.end()) return true;
    Status s;
    if (!world_->Poll(it->second, s)) return false;
    ops_.erase(it);
    request = Request{};
    if (!s.ok()) return s;
    return true;
  }

  void Cancel(Request& request) override {
    auto it = ops_.find(request.id);
    if (it == ops_.end()) return;
    world_->Cancel(it->second);
    ops_.erase(it);
    request = Request{};
  }

  StatusOr<std::unique_ptr<Transport>> Split(int color, int key) override {
    LOOM_ASSIGN_OR_RETURN(auto wr, world_->Split(split_seq_++, rank_, color, key, timeout_ms()));
    if (!wr.first) return std::unique_ptr<Transport>();
    auto t = std::make_unique<ThreadTransport>(wr.first, wr.second);
    t->set_timeout_ms(timeout_ms());
    return std::unique_ptr<Transport>(std::move(t));
  }

  // One address space: the peers swap (address, size) and read each other's bytes in place.
  StatusOr<std::span<const std::byte>> MapPeer(int peer, std::span<const std::byte> mine,
                                               std::span<std::byte> landing, int tag) override {
    // (address, shared size, expected size): both sides see a mismatch in either direction.
    const uint64_t out[3] = {reinterpret_cast<uintptr_t>(mine.data()), mine.size(), landing.size()};
    uint64_t in[3] = {0, 0, 0};
    LOOM_RETURN_IF_ERROR(SendRecv(peer, std::as_bytes(std::span(out)), peer,
                                  std::as_writable_bytes(std::span(in)), tag));
    if (in[1] != landing.size() || in[2] != mine.size())
      return InvalidArgumentError(StrCat(
          "message size mismatch: MapPeer between ranks ", rank_, " and ", peer, " (tag ", tag,
          "): rank ", rank_, " shares ", mine.size(), " bytes and expects ", landing.size(),
          ", rank ", peer, " shares ", in[1], " and expects ", in[2]));
    return std::span<const std::byte>(reinterpret_cast<const std::byte*>(in[0]), in[1]);
  }

  Status UnmapPeer(int peer, int tag) override {
    std::byte out{0}, in{0};
    return SendRecv(peer, {&out, 1}, peer, {&in, 1}, tag);
  }

 private:
  std::shared_ptr<Op> RecvOp(int peer, int tag, std::span<std::byte> data,
                             const PieceVisitor* visitor) const {
    auto op = std::make_shared<Op>();
    op->src = peer;
    op->dst = rank_;
    op->tag = tag;
    op->recv_data = data.data();
    op->bytes = data.size();
    op->visitor = visitor;
    return op;
  }

  StatusOr<Request> Start(const std::shared_ptr<Op>& op) {
    world_->Post(op);
    int64_t id = next_id_++;
    ops_[id] = op;
    return Request{id};
  }

  std::shared_ptr<World> world_;
  int rank_;
  int64_t next_id_ = 0;
  int64_t split_seq_ = 0;
  const bool shm_enabled_;
  const size_t shm_max_buffer_;
  int64_t shm_seq_ = 0;
  Status shm_error_;
  std::unique_ptr<ShmCollectives> shm_;  // destroyed before world_ (declared after it)
  std::unordered_map<int64_t, std::shared_ptr<Op>> ops_;
};

}  // namespace

std::vector<std::unique_ptr<Transport>> MakeThreadWorld(int n) {
  auto world = std::make_shared<World>(n, SpinNanosFor(n));
  std::vector<std::unique_ptr<Transport>> out;
  for (int r = 0; r < n; ++r) out.push_back(std::make_unique<ThreadTransport>(world, r));
  return out;
}

std::vector<Status> RunRanksEach(int n, const std::function<Status(Communicator&)>& fn,
                                 const RunOptions& options) {
  std::vector<Status> statuses(static_cast<size_t>(std::max(n, 0)));
  if (n <= 0) return statuses;
  auto transports = MakeThreadWorld(n);
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      auto t = std::move(transports[static_cast<size_t>(r)]);
      t->set_timeout_ms(options.timeout_ms);
      Communicator comm(std::move(t));
      comm.set_checked(options.checked);
      statuses[static_cast<size_t>(r)] = fn(comm);
    });  // the communicator (and transport) is destroyed here: the rank has exited
  }
  for (auto& th : threads) th.join();
  return statuses;
}

Status RunRanks(int n, const std::function<Status(Communicator&)>& fn, const RunOptions& options) {
  if (n < 1) return InvalidArgumentError(StrCat("RunRanks: ranks=", n, " must be at least 1"));
  std::vector<Status> st = RunRanksEach(n, fn, options);
  for (size_t r = 0; r < st.size(); ++r)
    if (!st[r].ok()) {
      std::string who = StrCat("rank ", r);
      return st[r].message().starts_with(who + ":") ? st[r] : st[r].WithContext(who);
    }
  return OkStatus();
}

}  // namespace loom::comm::thread
