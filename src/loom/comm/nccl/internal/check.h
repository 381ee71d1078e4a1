// comm_nccl's status macros for CUDA and NCCL calls (nccl_comm.cc, bench.cc): a failing call
// returns InternalError naming the call and the library's words for the failure.
#pragma once

#include <cuda_runtime.h>
#include <nccl.h>

#include "loom/base/status.h"
#include "loom/base/strings.h"

#define LOOM_CUDA_CHECK(call)                                                     \
  do {                                                                            \
    cudaError_t loom_cuda_rc_ = (call);                                           \
    if (loom_cuda_rc_ != cudaSuccess)                                             \
      return ::loom::InternalError(                                               \
          ::loom::StrCat(#call, " failed: ", cudaGetErrorString(loom_cuda_rc_))); \
  } while (0)

#define LOOM_NCCL_CHECK(call)                                                     \
  do {                                                                            \
    ncclResult_t loom_nccl_rc_ = (call);                                          \
    if (loom_nccl_rc_ != ncclSuccess)                                             \
      return ::loom::InternalError(                                               \
          ::loom::StrCat(#call, " failed: ", ncclGetErrorString(loom_nccl_rc_))); \
  } while (0)
