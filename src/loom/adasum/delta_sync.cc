// DeltaSync (delta_sync.h).
#include "loom/adasum/delta_sync.h"

#include <cstring>

#include "loom/base/strings.h"

namespace loom::adasum {

namespace {
// out = a - b (op < 0) or a + b (op > 0), elementwise in the dtype (halves via float).
void AddSub(comm::DataType t, std::byte* out, const std::byte* a, const std::byte* b, size_t n,
            int sign) {
  if (sign < 0) {
    // a - b = a + (-1)·b: negate b into out, then add a.
    std::vector<std::byte> neg(b, b + n * comm::DataTypeSize(t));
    switch (t) {
      case comm::DataType::kF32: for (size_t i = 0; i < n; ++i) reinterpret_cast<float*>(neg.data())[i] *= -1; break;
      case comm::DataType::kF64: for (size_t i = 0; i < n; ++i) reinterpret_cast<double*>(neg.data())[i] *= -1; break;
      default: for (size_t i = 0; i < n; ++i) reinterpret_cast<uint16_t*>(neg.data())[i] ^= 0x8000u; break;
    }
    comm::Combine(t, comm::ReduceOp::kSum, out, a, neg.data(), n);
  } else {
    comm::Combine(t, comm::ReduceOp::kSum, out, a, b, n);
  }
}
}  // namespace

StatusOr<std::unique_ptr<DeltaSync>> DeltaSync::Prepare(std::vector<TensorView> params,
                                                        comm::DataType dtype, int local_steps) {
  if (local_steps < 1)
    return InvalidArgumentError(StrCat("DeltaSync: local_steps=", local_steps, " must be >= 1"));
  std::unique_ptr<DeltaSync> ds(new DeltaSync());
  ds->params_ = std::move(params);
  ds->dtype_ = dtype;
  ds->local_steps_ = local_steps;
  const size_t es = comm::DataTypeSize(dtype);
  for (const TensorView& t : ds->params_) {
    if (t.count > 0 && t.data == nullptr) return InvalidArgumentError("DeltaSync: null tensor");
    auto* p = static_cast<const std::byte*>(t.data);
    ds->start_.emplace_back(p, p + t.count * es);
    ds->delta_.emplace_back(t.count * es);
  }
  return ds;
}

StatusOr<std::unique_ptr<DeltaSync>> DeltaSync::Create(comm::Communicator& comm,
                                                       std::vector<TensorView> params,
                                                       comm::DataType dtype, int local_steps,
                                                       bool fold) {
  // The reducer first: its creation is collective, so every rank makes it even when this
  // rank's arguments are bad (the others would wait for it otherwise).
  LOOM_ASSIGN_OR_RETURN(auto reducer, AdasumReducer::Create(comm, fold));
  LOOM_ASSIGN_OR_RETURN(auto ds, Prepare(std::move(params), dtype, local_steps));
  ds->reducer_ = std::move(reducer);
  return ds;
}

StatusOr<std::unique_ptr<DeltaSync>> DeltaSync::CreateHierarchical(comm::Communicator& comm,
                                                                   int node,
                                                                   std::vector<TensorView> params,
                                                                   comm::DataType dtype,
                                                                   int local_steps) {
  LOOM_ASSIGN_OR_RETURN(auto hier, HierarchicalAdasumReducer::Create(comm, node));
  LOOM_ASSIGN_OR_RETURN(auto ds, Prepare(std::move(params), dtype, local_steps));
  ds->hier_ = std::move(hier);
  return ds;
}

StatusOr<bool> DeltaSync::AfterStep() {
  if (++steps_ % local_steps_ != 0) return false;
  std::vector<TensorView> deltas;
  for (size_t i = 0; i < params_.size(); ++i) {
    AddSub(dtype_, delta_[i].data(), static_cast<const std::byte*>(params_[i].data),
           start_[i].data(), params_[i].count, -1);
    deltas.push_back({delta_[i].data(), params_[i].count});
  }
  LOOM_RETURN_IF_ERROR(hier_ ? hier_->Allreduce(deltas, dtype_)
                             : reducer_->Allreduce(deltas, dtype_));
  for (size_t i = 0; i < params_.size(); ++i) {
    AddSub(dtype_, static_cast<std::byte*>(params_[i].data), start_[i].data(), delta_[i].data(),
           params_[i].count, +1);
    std::memcpy(start_[i].data(), params_[i].data, start_[i].size());
  }
  return true;
}

}  // namespace loom::adasum
