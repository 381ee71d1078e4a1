// The NCCL backend (nccl_comm.h).
#include "loom/comm/nccl/nccl_comm.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <thread>

#include "loom/base/strings.h"
#include "loom/base/timer.h"

namespace loom::comm::nccl {

#define LOOM_CUDA_CHECK(call)                                                              \
  do {                                                                                     \
    cudaError_t loom_cuda_rc_ = (call);                                                    \
    if (loom_cuda_rc_ != cudaSuccess)                                                      \
      return InternalError(StrCat(#call, " failed: ", cudaGetErrorString(loom_cuda_rc_))); \
  } while (0)

#define LOOM_NCCL_CHECK(call)                                                                   \
  do {                                                                                          \
    ncclResult_t loom_nccl_rc_ = (call);                                                        \
    if (loom_nccl_rc_ != ncclSuccess)                                                           \
      return InternalError(StrCat(#call, " failed: ", ncclGetErrorString(loom_nccl_rc_)));      \
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
  bool aborted = false;
};

namespace {

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
    if (impl_->aborted) ncclCommAbort(impl_->comm);
    else ncclCommDestroy(impl_->comm);
  }
  if (impl_->stream != nullptr) cudaStreamDestroy(impl_->stream);
}

StatusOr<std::unique_ptr<NcclCommunicator>> NcclCommunicator::Create(Communicator& bootstrap,
                                                                     int device) {
  if (device < 0 || device >= DeviceCount())
    return FailedPreconditionError(StrCat("rank ", bootstrap.rank(), ": CUDA device ", device,
                                          " does not exist (", DeviceCount(), " visible)"));
  ncclUniqueId id;
  if (bootstrap.rank() == 0) LOOM_NCCL_CHECK(ncclGetUniqueId(&id));
  static_assert(sizeof(id) % 4 == 0, "ncclUniqueId is sent as int32 words");
  LOOM_RETURN_IF_ERROR(bootstrap.Broadcast(&id, sizeof(id) / 4, DataType::kI32, 0));
  auto impl = std::make_unique<Impl>();
  impl->device = device;
  LOOM_CUDA_CHECK(cudaSetDevice(device));
  LOOM_CUDA_CHECK(cudaStreamCreateWithFlags(&impl->stream, cudaStreamNonBlocking));
  LOOM_NCCL_CHECK(ncclCommInitRank(&impl->comm, bootstrap.size(), id, bootstrap.rank()));
  return std::unique_ptr<NcclCommunicator>(
      new NcclCommunicator(std::move(impl), bootstrap.rank(), bootstrap.size()));
}

Status NcclCommunicator::Finish(const char* what) {
  const int64_t deadline = NowNanos() + timeout_ms_ * 1000000;
  while (true) {
    cudaError_t q = cudaStreamQuery(impl_->stream);
    if (q == cudaSuccess) break;
    if (q != cudaErrorNotReady)
      return InternalError(StrCat(what, ": ", cudaGetErrorString(q)));
    ncclResult_t async = ncclSuccess;
    ncclCommGetAsyncError(impl_->comm, &async);
    if (async != ncclSuccess && async != ncclInProgress)
      return InternalError(StrCat(what, ": NCCL: ", ncclGetErrorString(async)));
    if (NowNanos() > deadline) {
      impl_->aborted = true;
      return UnavailableError(StrCat("rank ", rank_, ": ", what, " did not finish within ",
                                     timeout_ms_, " ms; the NCCL communicator was aborted"));
    }
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
  LOOM_RETURN_IF_ERROR(Validate(*this, "allreduce", count, send, recv));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_ASSIGN_OR_RETURN(ncclRedOp_t o, NcclOp(dtype, op));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  LOOM_NCCL_CHECK(ncclAllReduce(send, recv, count, t, o, impl_->comm, impl_->stream));
  return Finish("allreduce");
}

Status NcclCommunicator::AllGather(const void* send, void* recv, size_t count, DataType dtype) {
  LOOM_RETURN_IF_ERROR(Validate(*this, "allgather", count, send, recv));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  LOOM_NCCL_CHECK(ncclAllGather(send, recv, count, t, impl_->comm, impl_->stream));
  return Finish("allgather");
}

Status NcclCommunicator::ReduceScatter(const void* send, void* recv, size_t count,
                                       DataType dtype, ReduceOp op) {
  LOOM_RETURN_IF_ERROR(Validate(*this, "reducescatter", count, send, recv));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_ASSIGN_OR_RETURN(ncclRedOp_t o, NcclOp(dtype, op));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  LOOM_NCCL_CHECK(ncclReduceScatter(send, recv, count, t, o, impl_->comm, impl_->stream));
  return Finish("reducescatter");
}

Status NcclCommunicator::Broadcast(void* buffer, size_t count, DataType dtype, int root) {
  LOOM_RETURN_IF_ERROR(Validate(*this, "broadcast", count, buffer, buffer, root));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  LOOM_NCCL_CHECK(ncclBroadcast(buffer, buffer, count, t, root, impl_->comm, impl_->stream));
  return Finish("broadcast");
}

Status NcclCommunicator::Reduce(const void* send, void* recv, size_t count, DataType dtype,
                                ReduceOp op, int root) {
  LOOM_RETURN_IF_ERROR(Validate(*this, "reduce", count, send, rank_ == root ? recv : send, root));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_ASSIGN_OR_RETURN(ncclRedOp_t o, NcclOp(dtype, op));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  LOOM_NCCL_CHECK(ncclReduce(send, recv, count, t, o, root, impl_->comm, impl_->stream));
  return Finish("reduce");
}

Status NcclCommunicator::AllToAll(const void* send, void* recv, size_t count, DataType dtype) {
  LOOM_RETURN_IF_ERROR(Validate(*this, "alltoall", count, send, recv));
  LOOM_ASSIGN_OR_RETURN(ncclDataType_t t, NcclType(dtype));
  LOOM_CUDA_CHECK(cudaSetDevice(impl_->device));
  const size_t block = count * DataTypeSize(dtype);
  LOOM_NCCL_CHECK(ncclGroupStart());
  for (int peer = 0; peer < size_; ++peer) {
    const size_t off = static_cast<size_t>(peer) * block;
    ncclResult_t a = ncclSend(static_cast<const char*>(send) + off, count, t, peer, impl_->comm, impl_->stream);
    ncclResult_t b = ncclRecv(static_cast<char*>(recv) + off, count, t, peer, impl_->comm, impl_->stream);
    if (a != ncclSuccess || b != ncclSuccess) {
      ncclGroupEnd();
      return InternalError(StrCat("alltoall: ncclSend/ncclRecv failed: ",
                                  ncclGetErrorString(a != ncclSuccess ? a : b)));
    }
  }
  LOOM_NCCL_CHECK(ncclGroupEnd());
  return Finish("alltoall");
}

}  // namespace loom::comm::nccl
