// The fused view of a tensor list shared by the flat and hierarchical reducers: element
// offsets, whether the tensors already lie back to back in one buffer (then reduced in place),
// and the copies into and out of a fusion buffer. Also the dtype check both apply.
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "loom/adasum/adasum.h"
#include "loom/base/status.h"
#include "loom/comm/dtype.h"

namespace loom::adasum::internal {

struct FusedList {
  std::vector<size_t> offsets;  // T + 1 element offsets into the fused list
  size_t count = 0;             // elements in all
  // Non-null when every non-empty tensor t lies at back_to_back + offsets[t] elements.
  std::byte* back_to_back = nullptr;
};

// InvalidArgument naming `who` for a null non-empty tensor.
StatusOr<FusedList> DescribeFusedList(std::span<const TensorView> tensors, size_t elem_size,
                                      std::string_view who);

// Copies the tensors into `buf` at their offsets, and back.
void CopyIntoFusion(std::span<const TensorView> tensors, const FusedList& list, size_t elem_size,
                    std::byte* buf);
void CopyOutOfFusion(std::span<const TensorView> tensors, const FusedList& list, size_t elem_size,
                     const std::byte* buf);

// OK for f32, f64, f16 and bf16; InvalidArgument naming `who` otherwise.
Status CheckAdasumType(comm::DataType t, std::string_view who);

}  // namespace loom::adasum::internal
