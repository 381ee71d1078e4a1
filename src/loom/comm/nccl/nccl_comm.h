// comm_nccl: collectives on GPUs through NCCL, one rank per device. Built only when the CUDA
// toolkit and NCCL are found at configure time (LOOM_HAVE_CUDA); tests carry the `gpu` label and
// skip on machines without a device.
//
// loom's own algorithms reduce on the host, so on device memory this backend passes the
// collectives through to NCCL's (ncclAllReduce, …; alltoall as grouped ncclSend/ncclRecv),
// with loom's argument validation and Status errors. A call that does not finish within the
// timeout aborts the NCCL communicator and returns Unavailable (the communicator is unusable
// afterwards, as after any NCCL abort).
//
// Initialisation is bounded too: a peer that never joins gives Unavailable after the timeout
// instead of a hang in ncclCommInitRank.
//
// Two wait modes (NcclMode), because NCCL makes one pay for the other:
//  - kBounded (default): NCCL's communicator is non-blocking, so every call, its CPU-side work
//    included (NCCL connects peers lazily, on the first call that needs them), ends within the
//    timeout. NCCL launches each call of a non-blocking communicator from a thread it creates
//    for that call: about 30 us more per call than NCCL's default (measured on an H200, NCCL
//    2.28: a 1-rank alltoall 40-50 us against 13.5; docs/benchmarks.md).
//  - kBlocking: a blocking communicator, NCCL's and PyTorch's default: calls cost what direct
//    NCCL calls cost, and a call that hangs on the GPU (a peer stuck mid-collective) still ends
//    in Unavailable at the timeout. Init stays bounded (it runs on a helper thread that is
//    abandoned at the timeout). Not bounded: a call that blocks on the CPU inside NCCL, i.e. a
//    peer that stalls before its first call of a kind that needs a new connection.
//
// Thread-safety: one NcclCommunicator per rank, used by the thread that created it (it sets
// that thread's current device).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "loom/base/status.h"
#include "loom/comm/communicator.h"
#include "loom/comm/dtype.h"

namespace loom::comm::nccl {

// CUDA devices visible to this process; 0 without a driver or device (never an error).
int DeviceCount();

// NCCL's ncclUniqueId as plain bytes, so callers need not include nccl.h.
using UniqueId = std::array<char, 128>;

// A fresh id (ncclGetUniqueId); rank 0 of a communicator makes one and ships it to the others.
StatusOr<UniqueId> NewUniqueId();

enum class NcclMode { kBounded, kBlocking };

class NcclCommunicator {
 public:
  static constexpr int64_t kDefaultTimeoutMs = 60000;

  // Collective over `bootstrap` (a host communicator of the same ranks, e.g. thread or MPI):
  // rank 0 creates the NCCL unique id and broadcasts it; this rank uses CUDA device `device`.
  // Unavailable when the NCCL communicator is not up within `timeout_ms`.
  static StatusOr<std::unique_ptr<NcclCommunicator>> Create(Communicator& bootstrap, int device,
                                                            int64_t timeout_ms = kDefaultTimeoutMs,
                                                            NcclMode mode = NcclMode::kBounded);
  // Rank `rank` of `size` joins the communicator named by `id` (shipped by the caller's own
  // means, as with ncclCommInitRank).
  static StatusOr<std::unique_ptr<NcclCommunicator>> Join(const UniqueId& id, int size, int rank,
                                                          int device,
                                                          int64_t timeout_ms = kDefaultTimeoutMs,
                                                          NcclMode mode = NcclMode::kBounded);
  ~NcclCommunicator();
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  NcclMode mode() const;
  void set_timeout_ms(int64_t ms) { timeout_ms_ = ms; }
  // How long a call polls for completion without sleeping before it backs off to 20 us sleeps
  // (as cudaStreamSynchronize spins by default): a small collective finishes in microseconds,
  // and a sleep between polls would add the scheduler's wake-up latency to every call. 0 sleeps
  // from the first poll and frees the core at once.
  static constexpr int64_t kDefaultSpinUs = 2000;
  void set_spin_us(int64_t us) { spin_us_ = us; }

  // Device pointers; shapes as Communicator's. Each call waits for completion.
  Status AllReduce(const void* send, void* recv, size_t count, DataType dtype, ReduceOp op);
  Status AllGather(const void* send, void* recv, size_t count, DataType dtype);
  Status ReduceScatter(const void* send, void* recv, size_t count, DataType dtype, ReduceOp op);
  Status Broadcast(void* buffer, size_t count, DataType dtype, int root);
  Status Reduce(const void* send, void* recv, size_t count, DataType dtype, ReduceOp op, int root);
  Status AllToAll(const void* send, void* recv, size_t count, DataType dtype);

 private:
  struct Impl;
  explicit NcclCommunicator(std::unique_ptr<Impl> impl, int rank, int size);
  // Waits until NCCL has queued the call (non-blocking communicators may answer ncclInProgress)
  // and the stream has run it, or the timeout passes (then aborts).
  Status Finish(const char* what);
  // Aborts the NCCL communicator (NCCL's rule after an error or a timeout) and returns `why`;
  // every later call answers FailedPrecondition.
  Status Fail(Status why);
  Status Usable(const char* what) const;

  std::unique_ptr<Impl> impl_;
  int rank_ = 0, size_ = 1;
  int64_t timeout_ms_ = kDefaultTimeoutMs;
  int64_t spin_us_ = kDefaultSpinUs;
};

}  // namespace loom::comm::nccl
