// The fused view of a tensor list (fused_list.h).
#include "loom/adasum/internal/fused_list.h"

#include <cstring>

#include "loom/base/strings.h"

namespace loom::adasum::internal {

StatusOr<FusedList> DescribeFusedList(std::span<const TensorView> tensors, size_t es,
                                      std::string_view who) {
  FusedList list;
  list.offsets.reserve(tensors.size() + 1);
  for (size_t t = 0; t < tensors.size(); ++t) {
    if (tensors[t].count > 0 && tensors[t].data == nullptr)
      return InvalidArgumentError(StrCat(who, ": tensor ", t, " is null"));
    list.offsets.push_back(list.count);
    list.count += tensors[t].count;
  }
  list.offsets.push_back(list.count);
  std::byte* base = nullptr;
  for (size_t t = 0; t < tensors.size(); ++t) {
    if (tensors[t].count == 0) continue;
    auto* d = static_cast<std::byte*>(tensors[t].data);
    if (base == nullptr)
      base = d - list.offsets[t] * es;
    else if (d != base + list.offsets[t] * es)
      return list;  // not back to back
  }
  list.back_to_back = base;
  return list;
}

void CopyIntoFusion(std::span<const TensorView> tensors, const FusedList& list, size_t es,
                    std::byte* buf) {
  for (size_t t = 0; t < tensors.size(); ++t)
    if (tensors[t].count > 0)
      std::memcpy(buf + list.offsets[t] * es, tensors[t].data, tensors[t].count * es);
}

void CopyOutOfFusion(std::span<const TensorView> tensors, const FusedList& list, size_t es,
                     const std::byte* buf) {
  for (size_t t = 0; t < tensors.size(); ++t)
    if (tensors[t].count > 0)
      std::memcpy(tensors[t].data, buf + list.offsets[t] * es, tensors[t].count * es);
}

Status CheckAdasumType(comm::DataType t, std::string_view who) {
  switch (t) {
    case comm::DataType::kF32:
    case comm::DataType::kF64:
    case comm::DataType::kF16:
    case comm::DataType::kBF16:
      return OkStatus();
    default:
      return InvalidArgumentError(StrCat(who, ": dtype ", comm::DataTypeName(t),
                                         " is not supported (f32, f64, f16, bf16)"));
  }
}

}  // namespace loom::adasum::internal
