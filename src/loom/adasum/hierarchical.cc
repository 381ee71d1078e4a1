// Hierarchical Adasum (hierarchical.h): node-average by reduce-scatter, VHDD across nodes on
// each block with whole-tensor coefficients, all-gather inside the node.
#include "loom/adasum/hierarchical.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "loom/adasum/internal/fused_list.h"
#include "loom/base/strings.h"

namespace loom::adasum {

using comm::DataType;

StatusOr<std::unique_ptr<HierarchicalAdasumReducer>> HierarchicalAdasumReducer::Create(
    comm::Communicator& comm, int node) {
  // Every check below is decided from values all ranks share, so every rank returns the same
  // error instead of some ranks going on into a Split the others never join.
  int32_t bad = node < 0 ? comm.rank() + 1 : 0;
  LOOM_RETURN_IF_ERROR(comm.AllReduce(&bad, &bad, 1, DataType::kI32, comm::ReduceOp::kMax));
  if (bad > 0)
    return InvalidArgumentError(StrCat("adasum hierarchical: rank ", bad - 1,
                                       " passed a negative node colour (colours are >= 0)"));
  std::unique_ptr<HierarchicalAdasumReducer> red(new HierarchicalAdasumReducer());
  LOOM_ASSIGN_OR_RETURN(red->local_, comm.Split(node, comm.rank()));
  const int L = red->local_->size();
  int64_t sizes[2] = {L, -L};  // max of L and of -L: the largest and the smallest node
  LOOM_RETURN_IF_ERROR(comm.AllReduce(sizes, sizes, 2, DataType::kI64, comm::ReduceOp::kMax));
  if (sizes[0] != -sizes[1])
    return InvalidArgumentError(
        StrCat("adasum hierarchical: nodes have different rank counts (", -sizes[1], " to ",
               sizes[0], "); the hierarchical mode needs the same number of ranks on every node"));
  LOOM_ASSIGN_OR_RETURN(red->cross_, comm.Split(red->local_->rank(), node));
  const int nodes = red->cross_->size(), ni = red->cross_->rank();
  if ((nodes & (nodes - 1)) != 0)
    return InvalidArgumentError(StrCat("adasum hierarchical: ", nodes,
                                       " nodes is not a power of two; the VHDD across "
                                       "nodes needs 2^k nodes (Horovod's condition too)"));
  std::unique_ptr<AdasumReducer> across(new AdasumReducer(*red->cross_, nodes, /*fold=*/false));
  across->vrank_ = ni;
  // Level d pairs node groups of d; its dots are summed over all L ranks of the 2d nodes.
  for (int d = 1; d < nodes; d *= 2) {
    LOOM_ASSIGN_OR_RETURN(auto group, comm.Split(ni / (2 * d), ni * L + red->local_->rank()));
    across->level_comms_.push_back(std::move(group));
  }
  red->across_ = std::move(across);
  return red;
}

Status HierarchicalAdasumReducer::Allreduce(std::span<const TensorView> tensors, DataType dtype) {
  return Run(tensors, dtype, /*adasum=*/true);
}

Status HierarchicalAdasumReducer::SumAllreduce(std::span<const TensorView> tensors,
                                               DataType dtype) {
  return Run(tensors, dtype, /*adasum=*/false);
}

Status HierarchicalAdasumReducer::Run(std::span<const TensorView> tensors, DataType dtype,
                                      bool adasum) {
  LOOM_RETURN_IF_ERROR(internal::CheckAdasumType(dtype, "adasum hierarchical"));
  const size_t es = comm::DataTypeSize(dtype);
  LOOM_ASSIGN_OR_RETURN(internal::FusedList list,
                        internal::DescribeFusedList(tensors, es, "adasum hierarchical"));
  const size_t n = list.count;
  const size_t L = static_cast<size_t>(local_->size());
  const size_t m = (n + L - 1) / L;  // block length; the blocks cover L·m >= n elements
  // Reduce in place when the tensors are one buffer that splits into L whole blocks; else
  // fuse into L blocks, the padding zero (it adds nothing to any dot and is never copied out).
  std::byte* buf = list.back_to_back;
  const bool fused = buf == nullptr || L * m != n;
  if (fused) {
    fusion_.resize(L * m * es);
    buf = fusion_.data();
    internal::CopyIntoFusion(tensors, list, es, buf);
    std::fill(fusion_.begin() + static_cast<std::ptrdiff_t>(n * es), fusion_.end(), std::byte{0});
  }
  block_.resize(m * es);
  LOOM_RETURN_IF_ERROR(local_->ReduceScatter(buf, block_.data(), m, dtype, comm::ReduceOp::kAvg));
  // This rank's block [lo, hi) of the fused list (empty when n < L leaves it all padding).
  const size_t lo = std::min(static_cast<size_t>(local_->rank()) * m, n);
  const size_t hi = std::min(lo + m, n);
  if (cross_->size() > 1) {
    // (No copies for an empty block: its pointers may be null.)
    if (hi > lo) std::memcpy(buf + lo * es, block_.data(), (hi - lo) * es);
    LOOM_RETURN_IF_ERROR(across_->Vhdd(buf, lo, hi, list.offsets, dtype, adasum));
    if (hi > lo) std::memcpy(block_.data(), buf + lo * es, (hi - lo) * es);
  }
  LOOM_RETURN_IF_ERROR(local_->AllGather(block_.data(), buf, m, dtype));
  if (fused) internal::CopyOutOfFusion(tensors, list, es, buf);
  return OkStatus();
}

}  // namespace loom::adasum
