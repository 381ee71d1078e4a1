// The NCCL backend (nccl_comm.h).
#include "loom/comm/nccl/nccl_comm.h"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <cuda_runtime.h>
#include <nccl.h>

#include "loom/base/cpu.h"
#include "loom/base/strings.h"
#include "loom/base/timer.h"
#include "loom/comm/nccl/internal/check.h"

namespace loom::comm::nccl {

// A call that queues work: on a non-blocking communicator ncclInProgress means "queued, still
// being set up", and Finish waits for it.
#define LOOM_NCCL_ENQUEUE(call)                                                            \
  do {                                                                                     \
    ncclResult_t loom_nccl_rc_ = (call);                                                   \
    if (loom_nccl_rc_ != ncclSuccess && loom_nccl_rc_ != ncclInProgress)                   \
      return InternalError(StrCat(#call, " failed: ", ncclGetErrorString(loom_nccl_rc_))); \
  } while (0)

int DeviceCount() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
  return n;
}

struct NcclCommunicator::Impl {
  ncclComm_t comm = nullptr;
  cudaStream_t stream = nullptr;
  int device = 0;
  NcclMode mode = NcclMode::kBounded;
  bool aborted = false;
};

namespace {

// NCCL's own words for the last failure (": ..."), or nothing.
std::string NcclLastError(ncclComm_t comm) {
  const char* last = ncclGetLastError(comm);
  return last != nullptr && last[0] != 0 ? StrCat(" (", last, ")") : std::string();
}

StatusOr<ncclDataType_t> NcclType(DataType t) {
  switch (t) {
    case DataType::kF32: return ncclFloat32;
    case DataType::kF64: return ncclFloat64;
    case DataType::kF16: return ncclFloat16;
    case DataType::kBF16: return ncclBfloat16;
    case DataType::kI32: return ncclInt32;
    case DataType::kI64: return ncclInt64;
  }
  return InvalidArgumentError("invalid dtype");
}

StatusOr<ncclRedOp_t> NcclOp(DataType t, ReduceOp op) {
  LOOM_RETURN_IF_ERROR(CheckElementwise(t, op));
  switch (op) {
    case ReduceOp::kSum: return ncclSum;
    case ReduceOp::kProd: return ncclProd;
    case ReduceOp::kMin: return ncclMin;
    case ReduceOp::kMax: return ncclMax;
    case ReduceOp::kAvg: return ncclAvg;
    default: return InvalidArgumentError("invalid reduction");
  }
}

}  // namespace

NcclCommunicator::NcclCommunicator(std::unique_ptr<Impl> impl, int rank, int size)
    : impl_(std::move(impl)), rank_(rank), size_(size) {}

NcclCommunicator::~NcclCommunicator() {
  if (!impl_) return;
  cudaSetDevice(impl_->device);
  if (impl_->comm != nullptr) {
    // Non-blocking communicators finalize asynchronously; a finalize that does not finish
    // within the timeout (a peer gone mid-teardown) becomes an abort.
    bool clean = !impl_->aborted;
    if (clean) {
      ncclResult_t rc = ncclCommFinalize(impl_->comm);
      const int64_t deadline = NowNanos() + timeout_ms_ * 1000000;
      while (rc == ncclInProgress && NowNanos() <= deadline) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        ncclCommGetAsyncError(impl_->comm, &rc);
      }
      clean = rc == ncclSuccess;
    }
    if (clean)
      ncclCommDestroy(impl_->comm);
    else
      ncclCommAbort(impl_->comm);
  }
  if (impl_->stream != nullptr) cudaStreamDestroy(impl_->stream);
}

namespace {

// A blocking ncclCommInitRankConfig cannot be abandoned from its own thread, so it runs on a
// helper thread that hands the communicator over; at the timeout the caller walks away and the
// helper, should the init ever finish, aborts what it made.
struct PendingInit {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false, abandoned = false;
  ncclComm_t comm = nullptr;
  ncclResult_t rc = ncclSuccess;
  std::string error;
};

StatusOr<ncclComm_t> InitBlocking(const ncclUniqueId& nid, int size, int rank, int device,
                                  int64_t timeout_ms) {
  auto pending = std::make_shared<PendingInit>();
  std::thread([pending, nid, size, rank, device] {
    ncclComm_t comm = nullptr;
    ncclResult_t rc = ncclSystemError;
    std::string error;
    if (cudaSetDevice(device) == cudaSuccess) {
      ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
      config.blocking = 1;
      rc = ncclCommInitRankConfig(&comm, size, nid, rank, &config);
      if (rc != ncclSuccess) error = NcclLastError(comm);
    } else {
      error = " (cudaSetDevice failed)";
    }
    std::unique_lock<std::mutex> lock(pending->mu);
    if (pending->abandoned || rc != ncclSuccess) {
      lock.unlock();
      if (comm != nullptr) ncclCommAbort(comm);
      comm = nullptr;
      lock.lock();
    }
    pending->comm = comm;
    pending->rc = rc;
    pending->error = error;
    pending->done = true;
    pending->cv.notify_all();
  }).detach();
  std::unique_lock<std::mutex> lock(pending->mu);
  if (!pending->cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                            [&] { return pending->done; })) {
    pending->abandoned = true;
    return UnavailableError(StrCat("rank ", rank, " of ", size,
                                   ": the NCCL communicator was not up within ", timeout_ms,
                                   " ms (a peer never joined?); init abandoned"));
  }
  if (pending->rc != ncclSuccess)
    return InternalError(StrCat("rank ", rank, ": NCCL communicator init failed: ",
                                ncclGetErrorString(pending->rc), pending->error));
  return pending->comm;
}

}  // namespace

NcclMode NcclCommunicator::mode() const { return impl_->mode; }

StatusOr<UniqueId> NewUniqueId() {
  static_assert(sizeof(ncclUniqueId) == sizeof(UniqueId), "UniqueId mirrors ncclUniqueId");
  ncclUniqueId id;
  LOOM_NCCL_CHECK(ncclGetUniqueId(&id));
  UniqueId out;
  std::memcpy(out.data(), &id, sizeof(id));
  return out;
}

StatusOr<std::unique_ptr<NcclCommunicator>> NcclCommunicator::Create(Communicator& bootstrap,
                                                                     int device, int64_t timeout_ms,
                                                                     NcclMode mode) {
  UniqueId id{};
  // Rank 0's failure must still reach the others' broadcast, or they would wait for it forever:
  // ship an all-zero id and let every rank report.
  Status made = OkStatus();
  if (bootstrap.rank() == 0) {
    StatusOr<UniqueId> fresh = NewUniqueId();
    if (fresh.ok())
      id = *fresh;
    else
      made = fresh.status();
  }
  static_assert(sizeof(UniqueId) % 4 == 0, "the id is sent as int32 words");
  LOOM_RETURN_IF_ERROR(bootstrap.Broadcast(id.data(), id.size() / 4, DataType::kI32, 0));
  LOOM_RETURN_IF_ERROR(made);
  if (id == UniqueId{})
    return UnavailableError(
        StrCat("rank ", bootstrap.rank(), ": rank 0 could not make an NCCL id"));
  return Join(id, bootstrap.size(), bootstrap.rank(), device, timeout_ms, mode);
}

StatusOr<std::unique_ptr<NcclCommunicator>> NcclCommunicator::Join(const UniqueId& id, int size,
                                                                   int rank, int device,
                                                                   int64_t timeout_ms,
                                                                   NcclMode mode) {
  if (size < 1 || rank < 0 || rank >= size)
    return InvalidArgumentError(StrCat("NCCL rank ", rank, " outside [0, ", size, ")"));
  if (device < 0 || device >= DeviceCount())
    return FailedPreconditionError(StrCat("rank ", rank, ": CUDA device ", device,
                                          " does not exist (", DeviceCount(), " visible)"));
  // Owned by the communicator from here on, so every early return frees stream and comm.
  std::unique_ptr<NcclCommunicator> c(new NcclCommunicator(std::make_unique<Impl>(), rank, size));
  c->timeout_ms_ = timeout_ms;
  Impl& impl = *c->impl_;
  impl.device = device;
  impl.mode = mode;
  LOOM_CUDA_CHECK(cudaSetDevice(device));
  LOOM_CUDA_CHECK(cudaStreamCreateWithFlags(&impl.stream, cudaStreamNonBlocking));
  ncclUniqueId nid;
  std::memcpy(&nid, id.data(), sizeof(nid));
  if (mode == NcclMode::kBlocking) {
    LOOM_ASSIGN_OR_RETURN(impl.comm, InitBlocking(nid, size, rank, device, timeout_ms));
    return c;
  }
  // Non-blocking, so init can be abandoned: ncclCommInitRank would wait for a lost peer forever.
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  ncclResult_t rc = ncclCommInitRankConfig(&impl.comm, size, nid, rank, &config);
  if (rc != ncclSuccess && rc != ncclInProgress) {
    impl.aborted = true;
    return InternalError(StrCat("rank ", rank, ": ncclCommInitRankConfig failed: ",
                                ncclGetErrorString(rc), NcclLastError(impl.comm)));
  }
  const int64_t deadline = NowNanos() + timeout_ms * 1000000;
  while (true) {
    ncclResult_t state = ncclInProgress;
    ncclCommGetAsyncError(impl.comm, &state);
    if (state == ncclSuccess) break;
    if (state != ncclInProgress) {
      impl.aborted = true;
      return InternalError(StrCat("rank ", rank, ": NCCL communicator init failed: ",
                                  ncclGetErrorString(state), NcclLastError(impl.comm)));
    }
    if (NowNanos() > deadline) {
      impl.aborted = true;
      return UnavailableError(StrCat("rank ", rank, " of ", size,
                                     ": the NCCL communicator was not up within ", timeout_ms,
                                     " ms (a peer never joined?); init aborted"));
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return c;
}

Status NcclCommunicator::Fail(Status why) {
  // NCCL's rule after an error or a hang: abort the communicator. Doing it now, not at
  // destruction, stops this rank's kernels and lets the peers see the failure.
  if (impl_->comm != nullptr) ncclCommAbort(impl_->comm);
  impl_->comm = nullptr;
  impl_->aborted = true;
  return why;
}

Status NcclCommunicator::Usable(const char* what) const {
  if (impl_->aborted)
    return FailedPreconditionError(StrCat(what, " on rank ", rank_,
                                          ": the NCCL communicator was aborted after an earlier "
                                          "failure; make a new one"));
  return OkStatus();
}

Status NcclCommunicator::Finish(const char* what) {
  const int64_t start = NowNanos();
  const int64_t deadline = start + timeout_ms_ * 1000000;
  const int64_t spin_until = start + spin_us_ * 1000;
  // Pure spinning for the first microseconds: a sched_yield per poll cost a few percent of a
  // 10 us collective.
  constexpr int64_t kBusyNs = 50000;
  // A blocking enqueue returns with the work on the stream; a non-blocking one may still be
  // setting it up (NCCL first then: an idle stream would read as done).
  const bool on_stream = impl_->mode == NcclMode::kBlocking;
  while (true) {
    ncclResult_t async = ncclSuccess;
    if (!on_stream) ncclCommGetAsyncError(impl_->comm, &async);
    if (async == ncclSuccess) {
      cudaError_t q = cudaStreamQuery(impl_->stream);
      if (q == cudaSuccess) break;
      if (q != cudaErrorNotReady)
        return Fail(InternalError(StrCat(what, " on rank ", rank_, ": ", cudaGetErrorString(q))));
      if (on_stream) ncclCommGetAsyncError(impl_->comm, &async);
    }
    if (async != ncclSuccess && async != ncclInProgress)
      return Fail(InternalError(StrCat(what, " on rank ", rank_, ": NCCL: ",
                                       ncclGetErrorString(async), NcclLastError(impl_->comm))));
    const int64_t now = NowNanos();
    if (now > deadline)
      return Fail(UnavailableError(StrCat("rank ", rank_, ": ", what, " did not finish within ",
                                          timeout_ms_, " ms; the NCCL communicator was aborted")));
    if (now - start < std::min<int64_t>(kBusyNs, spin_us_ * 1000))
      CpuRelax();
    else if (now < spin_until)
      std::this_thread::yield();
    else
      std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  return OkStatus();
}

namespace {
Status Validate(const NcclCommunicator& c, const char* what, size_t count, const void* a,
                const void* b, int root = 0) {
  if (count > 0 && (a == nullptr || b == nullptr))
    return InvalidArgumentError(StrCat(what, " on rank ", c.rank(), ": null buffer"));
  if (root < 0 || root >= c.size())
    return InvalidArgumentError(StrCat(what, " on rank ", c.rank(), ": root ", root,
                                       " outside [0, ", c.size(), ")"));
  return OkStatus();
}
}  // namespace

Status NcclCommunicator::AllReduce(const void* send, void* recv, size_t count, DataType dtype,
                                   ReduceOp op) {
  LOOM_RETURN_IF_ERROR(Usable("allreduce"));
  LOOM_RETURN_IF_ERROR(Validate(*this, "allreduce", count, send, recv));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_ASSIGN_OR_RETURN(ncclRedOp_t o, NcclOp(dtype, op));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  LOOM_NCCL_ENQUEUE(ncclAllReduce(send, recv, count, t, o, impl_->comm, impl_->stream));
  return Finish("allreduce");
}

Status NcclCommunicator::AllGather(const void* send, void* recv, size_t count, DataType dtype) {
  LOOM_RETURN_IF_ERROR(Usable("allgather"));
  LOOM_RETURN_IF_ERROR(Validate(*this, "allgather", count, send, recv));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  LOOM_NCCL_ENQUEUE(ncclAllGather(send, recv, count, t, impl_->comm, impl_->stream));
  return Finish("allgather");
}

Status NcclCommunicator::ReduceScatter(const void* send, void* recv, size_t count,
                                       DataType dtype, ReduceOp op) {
  LOOM_RETURN_IF_ERROR(Usable("reducescatter"));
  LOOM_RETURN_IF_ERROR(Validate(*this, "reducescatter", count, send, recv));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_ASSIGN_OR_RETURN(ncclRedOp_t o, NcclOp(dtype, op));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  LOOM_NCCL_ENQUEUE(ncclReduceScatter(send, recv, count, t, o, impl_->comm, impl_->stream));
  return Finish("reducescatter");
}

Status NcclCommunicator::Broadcast(void* buffer, size_t count, DataType dtype, int root) {
  LOOM_RETURN_IF_ERROR(Usable("broadcast"));
  LOOM_RETURN_IF_ERROR(Validate(*this, "broadcast", count, buffer, buffer, root));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  LOOM_NCCL_ENQUEUE(ncclBroadcast(buffer, buffer, count, t, root, impl_->comm, impl_->stream));
  return Finish("broadcast");
}

Status NcclCommunicator::Reduce(const void* send, void* recv, size_t count, DataType dtype,
                                ReduceOp op, int root) {
  LOOM_RETURN_IF_ERROR(Usable("reduce"));
  LOOM_RETURN_IF_ERROR(Validate(*this, "reduce", count, send, rank_ == root ? recv : send, root));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_ASSIGN_OR_RETURN(ncclRedOp_t o, NcclOp(dtype, op));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  LOOM_NCCL_ENQUEUE(ncclReduce(send, recv, count, t, o, root, impl_->comm, impl_->stream));
  return Finish("reduce");
}

Status NcclCommunicator::AllToAll(const void* send, void* recv, size_t count, DataType dtype) {
  LOOM_RETURN_IF_ERROR(Usable("alltoall"));
  LOOM_RETURN_IF_ERROR(Validate(*this, "alltoall", count, send, recv));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  const size_t block = count * DataTypeSize(dtype);
  LOOM_NCCL_CHECK(ncclGroupStart());
  for (int peer = 0; peer < size_; ++peer) {
    const size_t off = static_cast<size_t>(peer) * block;
    ncclResult_t a = ncclSend(static_cast<const char*>(send) + off, count, t, peer, impl_->comm, impl_->stream);
    ncclResult_t b = ncclRecv(static_cast<char*>(recv) + off, count, t, peer, impl_->comm, impl_->stream);
    if ((a != ncclSuccess && a != ncclInProgress) || (b != ncclSuccess && b != ncclInProgress)) {
      ncclGroupEnd();
      return InternalError(StrCat("alltoall: ncclSend/ncclRecv failed: ",
                                  ncclGetErrorString(a != ncclSuccess ? a : b)));
    }
  }
  LOOM_NCCL_ENQUEUE(ncclGroupEnd());
  return Finish("alltoall");
}

}  // namespace loom::comm::nccl
