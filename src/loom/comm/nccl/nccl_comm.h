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
// Initialisation is bounded too: NCCL's communicator is created non-blocking and polled, so a
// peer that never joins gives Unavailable after the timeout instead of a hang in
// ncclCommInitRank.
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

class NcclCommunicator {
 public:
  static constexpr int64_t kDefaultTimeoutMs = 60000;

  // Collective over `bootstrap` (a host communicator of the same ranks, e.g. thread or MPI):
  // rank 0 creates the NCCL unique id and broadcasts it; this rank uses CUDA device `device`.
  // Unavailable when the NCCL communicator is not up within `timeout_ms`.
  static StatusOr<std::unique_ptr<NcclCommunicator>> Create(Communicator& bootstrap, int device,
                                                            int64_t timeout_ms = kDefaultTimeoutMs);
  // Rank `rank` of `size` joins the communicator named by `id` (shipped by the caller's own
  // means, as with ncclCommInitRank).
  static StatusOr<std::unique_ptr<NcclCommunicator>> Join(const UniqueId& id, int size, int rank,
                                                          int device,
                                                          int64_t timeout_ms = kDefaultTimeoutMs);
  ~NcclCommunicator();
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  void set_timeout_ms(int64_t ms) { timeout_ms_ = ms; }

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

  std::unique_ptr<Impl> impl_;
  int rank_ = 0, size_ = 1;
  int64_t timeout_ms_ = kDefaultTimeoutMs;
};

}  // namespace loom::comm::nccl
