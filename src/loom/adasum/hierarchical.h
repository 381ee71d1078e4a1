// Hierarchical Adasum: Horovod's GPU mode (AdasumGpuAllreduceOp) over loom communicators.
// The ranks form nodes of L ranks each (every rank names its node by a colour). One call:
//   1. inside each node, ReduceScatter with ReduceOp::kAvg over the fused buffer: local rank l
//      gets block l (blocks of ceil(n / L) elements, the last ones short or empty), holding the
//      node's average there;
//   2. across nodes, between the ranks with the same local rank, Horovod's VHDD Adasum on that
//      block, starting at the node level: a level's per-tensor dots and norms are summed over
//      every rank of the 2d nodes involved (each local rank holds a different block of every
//      tensor), so every coefficient is that of whole tensors, never of a block;
//   3. inside each node, AllGather of the blocks.
// The result is the Adasum tree (reference.h) over the nodes' averages, nodes in ascending
// colour order; every rank ends bitwise equal. The intra-node part is an average, not a sum:
// Horovod's semantics (its learning-rate guidance scales by GPUs per node for this mode).
//
// Differences from Horovod, none visible beyond rounding: Horovod hands the n mod L elements
// past the last full block to local rank L - 1, loom pads the blocks to ceil(n / L); either way
// the dots of a level add the same elements in a different grouping.
//
// Requirements (Horovod's): every node has the same number of ranks and the node count is a
// power of two; otherwise Create returns InvalidArgument on every rank. Colours are
// non-negative; which ranks share a node is up to the caller (MPI: the ranks of one host, e.g.
// comm::mpi::HostColour(), the smallest world rank sharing the host's memory, or rank / L
// under mpirun's default by-slot placement; `loom comm bench --local-size host|L` uses these). Buffers are host memory: with NCCL as the node communicator the block must be staged
// to the host for step 2 (not done yet).
//
// Thread-safety: a reducer is used by one thread (its rank), like its Communicator.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "loom/adasum/adasum.h"
#include "loom/base/status.h"
#include "loom/comm/communicator.h"
#include "loom/comm/dtype.h"

namespace loom::adasum {

class HierarchicalAdasumReducer {
 public:
  // Collective over every rank of `comm`. `node` is this rank's node colour (>= 0); inside a
  // node, local ranks follow `comm`'s rank order.
  static StatusOr<std::unique_ptr<HierarchicalAdasumReducer>> Create(comm::Communicator& comm,
                                                                     int node);

  // Adasum of the nodes' averages, in place, per tensor (see above).
  Status Allreduce(std::span<const TensorView> tensors, comm::DataType dtype);
  // The same schedule with the sum across nodes: the baseline of benchmarks. The result is the
  // sum of the nodes' averages (= the global sum / L).
  Status SumAllreduce(std::span<const TensorView> tensors, comm::DataType dtype);

  // How the exchanges across nodes get the partner's half (AdasumReducer::Exchange; same bits).
  void set_exchange(AdasumReducer::Exchange e) { across_->set_exchange(e); }
  // The sum baseline's exchanges across nodes read in place too (AdasumReducer's option).
  void set_sum_in_place(bool on) { across_->set_sum_in_place(on); }

  int local_size() const { return local_->size(); }
  int local_rank() const { return local_->rank(); }
  int nodes() const { return cross_->size(); }
  int node_index() const { return cross_->rank(); }  // position of this node's colour

 private:
  HierarchicalAdasumReducer() = default;
  Status Run(std::span<const TensorView> tensors, comm::DataType dtype, bool adasum);

  std::unique_ptr<comm::Communicator> local_;  // the ranks of this node
  std::unique_ptr<comm::Communicator> cross_;  // one rank per node: the same local rank
  // VHDD across nodes on cross_, each level's dots summed over every rank of its 2d nodes.
  std::unique_ptr<AdasumReducer> across_;
  std::vector<std::byte> fusion_;  // L blocks, when the tensors are not one padded buffer
  std::vector<std::byte> block_;   // this rank's block (reduce-scatter out, all-gather in)
};

}  // namespace loom::adasum
