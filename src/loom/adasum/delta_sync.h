// DeltaSync: Adasum the way Horovod's op=Adasum uses it with an optimizer — combine model
// *deltas* after local optimizer steps, not raw gradients (PyTorch _DistributedAdasumOptimizer,
// TensorFlow's delta_start slot). The caller runs its optimizer on the parameters in place and
// calls AfterStep(); every `local_steps`-th call each rank computes delta = params - start,
// Adasum-allreduces the deltas (per tensor), and sets params = start + result and start =
// params. With local_steps > 1 this is local SGD between communication steps.
// LR guidance (Horovod's guide): in CPU/MPI mode scale the single-worker LR by about 2-2.5,
// not linearly with ranks.
// Thread-safety: one per rank, like its Communicator.
#pragma once

#include <memory>
#include <vector>

#include "loom/adasum/adasum.h"
#include "loom/adasum/hierarchical.h"
#include "loom/base/status.h"

namespace loom::adasum {

class DeltaSync {
 public:
  // Collective (builds the reduction communicators). Saves the current params as "start".
  static StatusOr<std::unique_ptr<DeltaSync>> Create(comm::Communicator& comm,
                                                     std::vector<TensorView> params,
                                                     comm::DataType dtype, int local_steps = 1,
                                                     bool fold_non_power_of_two = false);

  // The same with hierarchical Adasum (hierarchical.h: the deltas are averaged inside each node,
  // then Adasum-reduced across nodes; Horovod's mode with NCCL). `node` is this rank's node
  // colour. LR guidance for this mode (Horovod's): scale by the ranks per node.
  static StatusOr<std::unique_ptr<DeltaSync>> CreateHierarchical(comm::Communicator& comm, int node,
                                                                 std::vector<TensorView> params,
                                                                 comm::DataType dtype,
                                                                 int local_steps = 1);

  // After each local optimizer step. Returns whether this call synchronised.
  StatusOr<bool> AfterStep();

 private:
  DeltaSync() = default;
  // Everything but the reducer: checks, the saved start, the delta buffers.
  static StatusOr<std::unique_ptr<DeltaSync>> Prepare(std::vector<TensorView> params,
                                                      comm::DataType dtype, int local_steps);
  std::unique_ptr<AdasumReducer> reducer_;           // flat, or
  std::unique_ptr<HierarchicalAdasumReducer> hier_;  // hierarchical
  std::vector<TensorView> params_;
  comm::DataType dtype_ = comm::DataType::kF32;
  int local_steps_ = 1;
  int64_t steps_ = 0;
  std::vector<std::vector<std::byte>> start_, delta_;
};

}  // namespace loom::adasum
